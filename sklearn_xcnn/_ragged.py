"""Training images of several shapes (series of unequal length), batched by
shape or padded to the longest of each batch.

A network that ends in global pooling has weights that do not depend on the
size of its input: the same parameters run on images of any shape its
kernels fit, each shape through its own :class:`~._core._spec.NetworkSpec`.
:class:`Ragged` holds training rows of several shapes that way: grouped by
shape, each group stacked into one array and given the spec for its shape.
Nothing is padded or cropped, so the loss of a row is the loss of that row
as it is, whatever the shapes of the others.

Batches of one shape each are exact but, with many lengths and few rows of
each, small: a batch of one series normalises it by its own statistics.
Where the network keeps the length of its maps (stride 1, 'same' padding,
no pooling between blocks, global pooling; see :func:`._core._mask.keeps_length`)
the collection may *mix* shapes (:meth:`Ragged.mixing`): its batches are then
cut from the epoch's permutation as for a plain array, whatever the shapes,
and each batch's images are padded with zeros at their end to the batch's
longest, with the mask of their valid cells. The network honours the mask
(:mod:`._core._mask`), so each row's output is still that of the row alone,
batch norm's statistics pooled over the valid cells of the batch. Rows are
not sorted by length: a batch pads to its longest row, whose cost is the
share of padded cells (printed by ``benchmarks/bench_unequal.py``).

The fit loops of :mod:`._training` reach their images through three
functions that take either a plain array ``(n, H, W, C)`` (one shape, one
spec: the array path is left exactly as it was) or a :class:`Ragged`:

* :func:`take`: the images of a batch of rows, the spec for their shape
  and the mask of their valid cells (None when they share one shape);
* :func:`epoch_batches`: the rows of each batch of an epoch, mixing shapes
  only in a mixing collection;
* :func:`chunks`: consecutive chunks of rows of one shape each, for full-batch
  losses, batch-norm population statistics and prediction.
"""

from typing import NamedTuple

import numpy as np

from ._core._mask import valid_cells


class Group(NamedTuple):
    """The rows of one shape."""

    rows: np.ndarray  # (n_g,) their indices among all the rows, increasing
    images: np.ndarray  # (n_g, H, W, C)
    spec: object  # NetworkSpec for (H, W, C); None until given (with_specs)


class Ragged:
    """Rows of images of several shapes, grouped by shape.

    Parameters
    ----------
    images : list of ndarray of shape (H, W_i, C)
        One image per row, all of one dtype; rows of one shape are stacked
        together, groups in increasing order of shape.

    Attributes
    ----------
    groups : list of Group
    shape : tuple of int
        ``(n_rows,)``: the number of rows, where scikit-learn's helpers look
        for it.
    dtype : numpy.dtype
    mix : bool
        Whether batches mix shapes, padded (see :meth:`mixing`).
    """

    mix = False

    def __init__(self, images):
        shapes = sorted({x.shape for x in images})
        which = {shape: g for g, shape in enumerate(shapes)}
        self.group_of = np.array([which[x.shape] for x in images], dtype=np.intp)
        self.position = np.empty(len(images), dtype=np.intp)
        self.groups = []
        for g in range(len(shapes)):
            rows = np.flatnonzero(self.group_of == g)
            self.position[rows] = np.arange(len(rows))
            stacked = np.stack([images[i] for i in rows])  # (n_g, H, W, C)
            self.groups.append(Group(rows, stacked, None))
        self.shape = (len(images),)
        self.dtype = self.groups[0].images.dtype

    def __len__(self):
        return self.shape[0]

    @property
    def image_shapes(self):
        """The ``(H, W, C)`` of each group, in group order."""
        return [g.images.shape[1:] for g in self.groups]

    def with_specs(self, specs):
        """A copy (sharing the arrays) whose groups carry ``specs``, one
        :class:`NetworkSpec` per group in group order."""
        out = object.__new__(Ragged)
        out.__dict__.update(self.__dict__)
        out.groups = [g._replace(spec=s) for g, s in zip(self.groups, specs)]
        return out

    def mixing(self):
        """A copy (sharing the arrays) whose batches mix shapes: the rows of a
        batch padded with zeros at the end of their columns to the longest
        (its group's spec then serves the batch), with their mask."""
        out = object.__new__(Ragged)
        out.__dict__.update(self.__dict__)
        out.mix = True
        return out

    def take(self, idx):
        """``(images, spec, valid)`` of the rows ``idx``: with one shape their
        images, their group's spec and None; with several (a mixing
        collection), their images padded at the end of their columns to the
        longest, that one's spec and the mask ``(n, H, W)`` of the cells
        that are not padding."""
        groups = self.group_of[idx]
        g = groups[0]
        if np.all(groups == g):
            group = self.groups[g]
            return group.images[self.position[idx]], group.spec, None
        if not self.mix:
            raise ValueError("a batch of a Ragged collection mixes image shapes")
        longest = self.groups[groups.max()]  # groups come in increasing shape
        H, W, C = longest.images.shape[1:]
        images = np.zeros((len(idx), H, W, C), dtype=self.dtype)
        lengths = np.empty(len(idx), dtype=np.intp)
        for i, (g, p) in enumerate(zip(groups, self.position[idx])):
            image = self.groups[g].images[p]  # (H, W_i, C)
            images[i, :, : image.shape[1]] = image
            lengths[i] = image.shape[1]
        return images, longest.spec, valid_cells(lengths, (H, W))

    def batches(self, ordered, batch_size):
        """The rows of each batch of an epoch that visits ``ordered``.

        The rows of each shape are taken in the order of ``ordered`` and cut
        into batches of ``batch_size`` (the last one of a shape may be
        smaller); the batches are then run in the order of their first row in
        ``ordered``. With one shape these are the consecutive slices of
        ``ordered``, as for a plain array; shuffled rows give batches
        shuffled within and across shapes, without drawing anything more.
        A mixing collection cuts ``ordered`` into consecutive batches, as
        for a plain array, whatever the shapes.
        """
        ordered = np.asarray(ordered)
        if self.mix:
            return [ordered[s] for s in _slices(len(ordered), batch_size)]
        rank = np.empty(len(self), dtype=np.intp)
        rank[ordered] = np.arange(len(ordered))
        groups = self.group_of[ordered]
        batches = []
        for g in range(len(self.groups)):
            rows = ordered[groups == g]
            batches += [rows[s] for s in _slices(len(rows), batch_size)]
        batches.sort(key=lambda rows: rank[rows[0]])
        return batches


def _slices(n, size):
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def take(X, idx, spec):
    """``(images, spec, valid)`` of the rows ``idx`` of ``X``: ``(X[idx],
    spec, None)`` for a plain array, see :meth:`Ragged.take` for a
    :class:`Ragged`."""
    if isinstance(X, Ragged):
        return X.take(idx)
    return X[idx], spec, None


def epoch_batches(X, order, rows, batch_size):
    """The rows (indices into ``X``) of each batch of an epoch.

    ``order`` is the epoch's permutation of the ``n`` training rows (None:
    in turn) and ``rows`` the training rows among those of ``X`` (None: all
    of them). For a plain array the batches are consecutive slices of
    ``order``; for a :class:`Ragged` see :meth:`Ragged.batches`.
    """
    n = len(X) if rows is None else len(rows)
    if not isinstance(X, Ragged):
        out = []
        for s in _slices(n, batch_size):
            idx = order[s] if order is not None else s
            out.append(idx if rows is None else rows[idx])
        return out
    ordered = np.arange(n) if order is None else order
    return X.batches(ordered if rows is None else rows[ordered], batch_size)


def chunks(X, spec, size, rows=None):
    """``(where, images, spec)`` for chunks of at most ``size`` rows of one
    shape covering the rows ``rows`` of ``X`` (all when None); ``where``
    indexes the chunk's rows among those covered (a slice for a plain
    array)."""
    if not isinstance(X, Ragged):
        n = len(X) if rows is None else len(rows)
        for s in _slices(n, size):
            yield s, (X[s] if rows is None else X[rows[s]]), spec
        return
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    for g, group in enumerate(X.groups):
        where = np.flatnonzero(X.group_of[rows] == g)
        positions = X.position[rows[where]]
        for s in _slices(len(where), size):
            yield where[s], group.images[positions[s]], group.spec


def head(X, spec, n):
    """``(rows, images, spec)`` of at most ``n`` rows of one shape to look at
    first: ``X[:n]`` for a plain array, the first rows of the largest group
    (the longest of the largest) for a :class:`Ragged`."""
    if not isinstance(X, Ragged):
        rows = slice(n)
        return rows, X[rows], spec
    group = max(reversed(X.groups), key=lambda g: len(g.rows))
    return group.rows[:n], group.images[:n], group.spec
