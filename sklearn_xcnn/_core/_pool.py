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


def _offsets(shape, pool):
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


def pool_forward(a, pool, kind):
    """Pool each channel of a batch of maps.

    Parameters
    ----------
    a : ndarray of shape (n, H, W, F)
    pool : (int, int)
        Window rows and columns (also the step: windows do not overlap).
    kind : {"max", "mean", "sum"}

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
    argmax = np.zeros(out.shape, dtype=np.uint8) if kind == "max" else None
    for k, i, j, rows, cols in _offsets(shape, pool):
        if k == 0:
            continue
        cells = a[:, i::pr, j::pc]  # (n, rows, cols, F)
        head = out[:, :rows, :cols]
        if kind == "max":
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
    for k, i, j, rows, cols in _offsets(a_shape[1:3], pool):
        target = da[:, i::pr, j::pc]  # (n, rows, cols, F)
        if kind == "max":
            np.multiply(dout[:, :rows, :cols], argmax[:, :rows, :cols] == k, out=target)
        else:
            target[...] = dout[:, :rows, :cols]
    return da
