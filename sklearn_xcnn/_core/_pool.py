"""Non-overlapping pooling with partial windows at the edges.

A map of ``H`` rows pooled with windows of ``p`` rows has ``ceil(H / p)`` rows:
the last window may run off the edge and then covers only the cells present
(a 3x3 map pools to 2x2, a 5x5 map to 3x3). ``"max"`` takes the largest cell
present, ``"sum"`` adds them and ``"mean"`` divides that sum by the number of
cells present.

Instead of copying windows, each function loops over the ``pr * pc`` offsets
inside a window: offset ``(i, j)`` of every window is the strided view
``a[:, i::pr, j::pc]``, one elementwise pass each.
"""

import numpy as np

POOLINGS = ("max", "mean", "sum")


def pool_output_size(size, pool):
    """Number of windows of ``pool`` cells covering ``size`` cells."""
    return -(-size // pool)


def window_offsets(shape, pool):
    """Yield ``(k, i, j, rows, cols)`` for every offset inside a window.

    ``rows`` and ``cols`` count the windows that have a cell at that offset
    (the first ones; partial windows at the edge lack the far offsets).
    """
    H, W = shape
    pr, pc = pool
    for i in range(pr):
        for j in range(pc):
            yield (
                i * pc + j,
                i,
                j,
                pool_output_size(H - i, pr),
                pool_output_size(W - j, pc),
            )


def window_counts(shape, pool):
    """Number of cells present in each window, ``(Hp, Wp)``."""
    (H, W), (pr, pc) = shape, pool
    rows = np.minimum(pr, H - pr * np.arange(pool_output_size(H, pr)))
    cols = np.minimum(pc, W - pc * np.arange(pool_output_size(W, pc)))
    return np.outer(rows, cols)


def pool_forward(a, pool, kind, keep_argmax=True):
    """Pool each channel of a batch of maps.

    Parameters
    ----------
    a : ndarray of shape (n, H, W, F)
    pool : (int, int)
        Window rows and columns (also the step: windows do not overlap).
    kind : {"max", "mean", "sum"}
    keep_argmax : bool, default=True
        For ``"max"``, record which cell won each window (what
        :func:`pool_backward` needs); without, only the maxima are taken.

    Returns
    -------
    out : ndarray of shape (n, ceil(H / pr), ceil(W / pc), F)
    cache : tuple
        What :func:`pool_backward` needs.
    """
    if kind not in POOLINGS:
        raise ValueError(f"unknown pooling {kind!r}; use one of {POOLINGS}")
    pr, pc = pool
    shape = a.shape[1:3]
    out = a[:, ::pr, ::pc].copy()  # offset (0, 0) is in every window
    track = kind == "max" and keep_argmax
    argmax = np.zeros(out.shape, dtype=np.uint8) if track else None
    for k, i, j, rows, cols in window_offsets(shape, pool):
        if k == 0:
            continue
        cells = a[:, i::pr, j::pc]  # (n, rows, cols, F)
        head = out[:, :rows, :cols]
        if kind == "max" and not track:
            np.maximum(head, cells, out=head)
        elif kind == "max":
            better = cells > head  # first offset wins ties
            np.copyto(head, cells, where=better)
            argmax[:, :rows, :cols][better] = k
        else:
            head += cells
    if kind == "mean":
        out /= window_counts(shape, pool)[:, :, None].astype(out.dtype)
    return out, (kind, a.shape, pool, argmax)


def pool_backward(dout, cache):
    """Gradient of :func:`pool_forward` with respect to its input.

    Parameters
    ----------
    dout : ndarray of shape (n, Hp, Wp, F)
    cache : tuple
        From :func:`pool_forward`.

    Returns
    -------
    da : ndarray of shape (n, H, W, F)
    """
    kind, a_shape, pool, argmax = cache
    pr, pc = pool
    if kind == "mean":
        dout = dout / window_counts(a_shape[1:3], pool)[:, :, None].astype(dout.dtype)
    da = np.empty(a_shape, dtype=dout.dtype)
    for k, i, j, rows, cols in window_offsets(a_shape[1:3], pool):
        target = da[:, i::pr, j::pc]  # (n, rows, cols, F)
        if kind == "max":
            np.multiply(dout[:, :rows, :cols], argmax[:, :rows, :cols] == k, out=target)
        else:
            target[...] = dout[:, :rows, :cols]
    return da


# ---------------------------------------------------------------- pool order
# Maps ``(n, H, W, F)`` are in *pool order* when their cells are stored as a
# matrix ``(n * H * W, F)`` holding one block per offset inside a pooling
# window: block ``k = i * pc + j`` is ``maps[:, i::pr, j::pc]``, of shape
# ``(n, rows_k, cols_k, F)`` (the far offsets of partial windows at the edge
# are absent, so the blocks are a permutation of the cells, none repeated).
# Max pooling is then elementwise maxima of contiguous blocks.


def ordered_blocks(flat, layout):
    """Yield ``(k, i, j, block)``: views of pool-ordered maps.

    Parameters
    ----------
    flat : ndarray of shape (n * H * W, ...)
    layout : (int, int, int, int, int)
        ``(n, H, W, pr, pc)``.

    Yields
    ------
    k, i, j : int
        Offset ``(i, j)`` inside the window, ``k = i * pc + j``.
    block : ndarray of shape (n, rows_k, cols_k, ...)
    """
    n, H, W, pr, pc = layout
    start = 0
    for k, i, j, rows, cols in window_offsets((H, W), (pr, pc)):
        stop = start + n * rows * cols
        yield k, i, j, flat[start:stop].reshape(n, rows, cols, *flat.shape[1:])
        start = stop


def to_pool_order(maps, pool):
    """Maps ``(n, H, W, F)`` as a pool-ordered matrix ``(n * H * W, F)``."""
    n, H, W, F = maps.shape
    pr, pc = pool
    flat = np.empty((n * H * W, F), dtype=maps.dtype)
    for _, i, j, block in ordered_blocks(flat, (n, H, W, pr, pc)):
        block[...] = maps[:, i::pr, j::pc]
    return flat


def from_pool_order(flat, layout, out=None):
    """Inverse of :func:`to_pool_order`: ``(n * H * W, F) -> (n, H, W, F)``,
    into ``out`` (any array of that shape, a view too) when given."""
    n, H, W, pr, pc = layout
    maps = np.empty((n, H, W, flat.shape[1]), dtype=flat.dtype) if out is None else out
    for _, i, j, block in ordered_blocks(flat, layout):
        maps[:, i::pr, j::pc] = block
    return maps


def _head(block):
    """Index of the windows that ``block`` (n, rows, cols, F) has a cell in."""
    return (slice(None), slice(block.shape[1]), slice(block.shape[2]))


def _blocks_and_cuts(flat, layout):
    """Views of the pool-order blocks with the window cells each one covers.

    Returns ``(blocks, cuts)``: ``blocks[k]`` (any shape) lines up with
    ``out[cuts[k]]`` for an output ``out`` of shape ``(n, Hp, Wp, F)``, as a
    flat run of cells when no window is partial.
    """
    n, H, W, pr, pc = layout
    if H % pr == 0 and W % pc == 0:  # equal blocks: whole contiguous runs
        return flat.reshape(pr * pc, -1), [slice(None)] * (pr * pc)
    blocks = [block for _, _, _, block in ordered_blocks(flat, layout)]
    return blocks, [_head(block) for block in blocks]


def max_pool_ordered(flat, layout, keep_argmax, keep_input=False):
    """Max pooling of pool-ordered maps.

    Parameters
    ----------
    flat : ndarray of shape (n * H * W, F)
        Overwritten (its first block becomes the output) unless
        ``keep_input``.
    layout : (int, int, int, int, int)
        ``(n, H, W, pr, pc)``.
    keep_argmax : bool
        Whether to return which offset won each window (for the backward
        pass); ties go to the first offset.
    keep_input : bool, default=False
        Leave ``flat`` as it is and return a new array.

    Returns
    -------
    out : ndarray of shape (n, ceil(H / pr), ceil(W / pc), F)
        A view of the first block of ``flat``, or a new array.
    argmax : ndarray of shape (n, Hp, Wp, F) of uint8, or None
    """
    n, H, W, pr, pc = layout
    shape = (n, pool_output_size(H, pr), pool_output_size(W, pc), flat.shape[1])
    blocks, cuts = _blocks_and_cuts(flat, layout)
    first = blocks[0].copy() if keep_input else blocks[0]
    out = first.reshape(shape)  # offset (0, 0) is in every window
    flat_out = out.reshape(first.shape)
    if keep_argmax:
        argmax = np.zeros(flat_out.shape, dtype=np.uint8)
        better = np.empty(flat_out.shape, dtype=bool)
        step = np.empty(flat_out.shape, dtype=np.uint8)
    for k in range(1, len(blocks)):
        block, cut = blocks[k], cuts[k]
        if keep_argmax:
            # offsets come in increasing k: where k beats the running max,
            # max(argmax, k) is k, elsewhere argmax stays (first wins ties)
            np.greater(block, flat_out[cut], out=better[cut])
            np.multiply(better[cut].view(np.uint8), k, out=step[cut])
            np.maximum(argmax[cut], step[cut], out=argmax[cut])
        np.maximum(flat_out[cut], block, out=flat_out[cut])
    return out, (argmax.reshape(shape) if keep_argmax else None)


def max_pool_ordered_backward(dout, argmax, layout, add_to=None):
    """Gradient of :func:`max_pool_ordered`, in pool order.

    Parameters
    ----------
    dout : ndarray of shape (n, Hp, Wp, F)
    argmax : ndarray of shape (n, Hp, Wp, F)
    layout : (int, int, int, int, int)
        ``(n, H, W, pr, pc)``.
    add_to : ndarray of shape (n * H * W, F) or None, default=None
        Add the gradient to this array (in place) instead of returning a
        new one.

    Returns
    -------
    dflat : ndarray of shape (n * H * W, F)
        ``dout`` where offset ``k`` won the window, zero elsewhere (plus
        ``add_to``).
    """
    n, H, W, _, _ = layout
    dflat = add_to
    if dflat is None:
        dflat = np.empty((n * H * W, dout.shape[3]), dtype=dout.dtype)
    blocks, cuts = _blocks_and_cuts(dflat, layout)
    if isinstance(cuts[0], slice):  # equal blocks: all offsets in two calls
        offsets = np.arange(len(blocks), dtype=argmax.dtype)[:, None]
        won = np.equal(argmax.reshape(1, -1), offsets)  # (offsets, cells)
        target = dflat.reshape(won.shape)
        if add_to is None:
            np.multiply(dout.reshape(1, -1), won, out=target)
        else:  # (a ufunc's where= is several times slower)
            target += dout.reshape(1, -1) * won
        return dflat
    won = np.empty(dout.shape, dtype=bool)
    routed = None if add_to is None else np.empty_like(dout)
    for k, (block, cut) in enumerate(zip(blocks, cuts)):
        np.equal(argmax[cut], k, out=won[cut])
        if add_to is None:
            np.multiply(dout[cut], won[cut], out=block)
        else:  # (a ufunc's where= is several times slower)
            np.multiply(dout[cut], won[cut], out=routed[cut])
            block += routed[cut]
    return dflat


# ----------------------------------------------------------- global pooling
GLOBAL_POOLINGS = ("mean", "max")


def global_pool_forward(a, kind, valid=None):
    """Reduce each map of ``a`` (n, H, W, F) to one value, ``(n, F)``.

    ``"mean"`` averages the cells, ``"max"`` takes the largest (ties go to
    the first cell in row-major order). With a mask ``valid`` (n, H, W) of
    the cells of images padded to one shape (see :mod:`._mask`), only the
    valid cells count: the mean is over them, the padding never wins the
    maximum, whatever it holds.

    Returns
    -------
    out : ndarray of shape (n, F)
    cache : tuple
        What :func:`global_pool_backward` needs.
    """
    n, H, W, F = a.shape
    flat = a.reshape(n, H * W, F)
    cells = None if valid is None else valid.reshape(n, H * W)
    if kind == "mean":
        if cells is None:
            return flat.mean(axis=1), (kind, a.shape, None, None)
        counts = cells.sum(axis=1).astype(a.dtype)  # (n,)
        kept = np.where(cells[:, :, None], flat, a.dtype.type(0))
        out = np.einsum("nkf->nf", kept) / counts[:, None]
        return out, (kind, a.shape, None, cells)
    if kind != "max":
        raise ValueError(f"unknown global pooling {kind!r}; use {GLOBAL_POOLINGS}")
    if cells is not None:
        flat = np.where(cells[:, :, None], flat, a.dtype.type(-np.inf))
    argmax = flat.argmax(axis=1)  # (n, F)
    out = np.take_along_axis(flat, argmax[:, None, :], axis=1)[:, 0]
    return out, (kind, a.shape, argmax, cells)


def global_pool_backward(dout, cache):
    """Gradient of :func:`global_pool_forward`: ``(n, F) -> (n, H, W, F)``,
    zero at padded cells."""
    kind, shape, argmax, cells = cache
    n, H, W, F = shape
    if kind == "mean":
        da = np.empty((n, H * W, F), dtype=dout.dtype)
        if cells is None:
            da[...] = (dout / (H * W))[:, None, :]
        else:
            counts = cells.sum(axis=1).astype(dout.dtype)  # (n,)
            share = cells / counts[:, None]  # (n, H * W)
            np.multiply(share[:, :, None], dout[:, None, :], out=da)
        return da.reshape(shape)
    da = np.zeros((n, H * W, F), dtype=dout.dtype)
    np.put_along_axis(da, argmax[:, None, :], dout[:, None, :], axis=1)
    return da.reshape(shape)
