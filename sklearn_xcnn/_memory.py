"""Memory estimates for the network passes, and refusing what cannot fit.

The im2col engine copies every sliding window of a block's input into a patch
matrix of ``Ho * Wo * kr * kc * C`` values per image, which for a large image
and kernel can be far more than the machine holds. Before any such array is
allocated, these estimates are compared with the memory available:

* prediction runs in chunks of rows sized to scikit-learn's
  ``working_memory`` (:func:`sklearn.get_config`), and raises
  :class:`MemoryError` only when a single image cannot fit;
* training raises :class:`MemoryError` when one mini-batch (or one chunk of
  the full batch for L-BFGS) cannot fit, naming the parameters to change.

The estimates count the large arrays of each pass (patch matrices, FFT
buffers, feature maps, pooled maps); they are meant to be within a small
factor of the truth, not exact.

Every mini-batch allocates and frees the same arrays again. With glibc's
default settings, freed memory at the top of the heap above a threshold that
adapts as the process runs goes back to the system, and taking it again
costs a page fault per 4 KiB: whether a process falls into that depends on
the history of its heap. On the README's digits task 578 000 faults made the
default network's fit 1.7x slower in such a process (1.59 s against 0.93 s).
:func:`steady_heap` fixes glibc's thresholds at values its adaptation can
reach by itself (32 MiB for serving an allocation from the heap, 64 MiB of
free memory kept at the top), once, when a network first trains or
predicts, and raises the second to the estimated memory of one training
batch when that is more, up to 256 MiB (the worker processes' setting): a
batch of 16 series through the ResNet preset frees more than 64 MiB, and
its fit faulted 270 000 times an epoch and took 1.17x as long until the
heap kept that much. ``SKLEARN_XCNN_MALLOC=0`` turns this off, and a process
started with glibc's own ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` is left as set.
"""

import ctypes
import math
import os
import sys

from sklearn import get_config

from ._core._network import param_shapes
from ._core._pad import NO_PADDING, padded_shape

_MIB = 2**20


def _block_values(block, training):
    """Values per image held by one block: ``(kept, scratch)``.

    ``kept`` stays alive until the backward pass when training; ``scratch``
    lives only while the block runs (forward) or is back-propagated.
    """
    H, W = padded_shape(block.in_shape[:2], block.padding)  # what is correlated
    C = block.in_shape[2]
    Ho, Wo = block.conv_shape
    kr, kc = block.kernel
    maps = Ho * Wo * block.n_filters + 2 * math.prod(block.out_shape)
    if block.batch_norm:  # the normalised maps, and their cache when training
        maps += 2 * Ho * Wo * block.n_filters
    if block.engine == "im2col":
        # the patch matrix; when training it is kept for the filter gradient,
        # and the input gradient lays the output gradient on the input's grid
        work = Ho * Wo * kr * kc * C
        kept = work
        if training:
            work = max(work, H * W * block.n_filters)
    else:
        # scipy: a few FFT buffers of the full correlation, (H + kr) x (W + kc)
        # x (2C - 1) forward; for the filter gradient the batch axis joins the
        # transform, doubling a (H + Ho) x (W + Wo) x C grid
        work = 4 * (H + kr) * (W + kc) * 2 * C
        if training:
            work = max(work, 8 * (H + Ho) * (W + Wo) * C)
        kept = H * W * C
    if training:
        return kept + maps, work + H * W * C
    padded_copy = H * W * C if block.padding != NO_PADDING else 0
    return 0, work + maps + padded_copy


def bytes_per_image(spec, itemsize, training):
    """Estimated peak bytes one image needs in a forward (and backward) pass.

    Parameters
    ----------
    spec : NetworkSpec
    itemsize : int
        Bytes per value (8 for float64, 4 for float32).
    training : bool
        Whether the backward pass runs too (caches are then kept).

    Returns
    -------
    n_bytes : int
    """
    kept, scratch = 0, 0
    # a compound block holds each of its convolutions' values (and its
    # output, counted by the last one's maps as for a plain block)
    for unit in (u for block in spec.blocks for u in block.conv_units):
        block_kept, block_scratch = _block_values(unit, training)
        kept += block_kept
        scratch = max(scratch, block_scratch)
    dense = sum(spec.layer_units) * (2 if training else 1)
    return int((kept + scratch + dense) * itemsize)


def _read_int(path, key=None):
    """An integer from a ``/proc`` or cgroup file, or None."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    if key is not None:
        lines = [ln.split()[1:] for ln in text.splitlines() if ln.startswith(key)]
        return int(lines[0][0]) * 1024 if lines else None  # kB in /proc/meminfo
    return int(text) if text.strip().isdigit() else None


def available_memory():
    """Bytes of memory this process can still allocate, or None if unknown.

    ``MemAvailable`` from ``/proc/meminfo``, lowered to the room left in the
    process's cgroup (containers); elsewhere ``psutil`` when installed.
    """
    candidates = [_read_int("/proc/meminfo", "MemAvailable:")]
    for limit, usage in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        cap, used = _read_int(limit), _read_int(usage)
        if cap is not None and used is not None and cap < 2**60:
            candidates.append(max(cap - used, 0))
    candidates = [c for c in candidates if c is not None]
    if candidates:
        return min(candidates)
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def format_bytes(n_bytes):
    """``n_bytes`` as a short human-readable string (``"1.5 GiB"``)."""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def _refuse(what, need, available, spec):
    """The :class:`MemoryError` raised instead of running out of memory."""
    shape = "x".join(map(str, spec.blocks[0].in_shape)) if spec.blocks else "?"
    engines = "/".join(sorted({b.engine for b in spec.blocks}))
    return MemoryError(
        f"Not enough memory to {what} of shape {shape} (height x width x "
        f"channels): it needs about {format_bytes(need)} with the {engines} "
        f"correlation engine but only {format_bytes(available)} is available. "
        "Use smaller images, a smaller kernel_size, a larger stride, "
        "algorithm='scipy' (no im2col patch matrix) or a smaller batch_size."
    )


# a prediction chunk's arrays should stay in the cores' caches: at most this
# many bytes of them (by :func:`bytes_per_image`) unless that leaves fewer
# than CACHE_MIN_ROWS rows. On the MNIST-shaped networks, chunks of 64-96
# rows predicted 6-17% faster than chunks of 128; since the products run in
# chunks of rows (:mod:`._core._gemm`), goal 3's network (224 KB an image)
# predicts faster still in chunks of 32-37 rows than of 64, while the
# series networks (0.9-2.1 MB an image) predict alike in chunks of 32 or 64
# (benchmarks/README.md)
CACHE_BYTES = 8 * _MIB
CACHE_MIN_ROWS = 32


def predict_chunk_rows(spec, itemsize, max_rows):
    """Rows per prediction chunk: as many as fit in ``working_memory``, and
    few enough for the caches (:data:`CACHE_BYTES`).

    Parameters
    ----------
    spec : NetworkSpec
    itemsize : int
    max_rows : int
        Upper bound on the chunk.

    Returns
    -------
    rows : int
        Between 1 and ``max_rows``.

    Raises
    ------
    MemoryError
        When a single image needs more memory than is available.
    """
    per_image = max(bytes_per_image(spec, itemsize, training=False), 1)
    available = available_memory()
    if available is not None and per_image > available:
        raise _refuse("predict one image", per_image, available, spec)
    budget = get_config()["working_memory"] * _MIB
    cached = max(CACHE_BYTES // per_image, CACHE_MIN_ROWS)
    return int(min(max(budget // per_image, 1), max_rows, cached))


def check_training_memory(spec, n_rows, itemsize):
    """Raise :class:`MemoryError` if a training batch of ``n_rows`` cannot fit.

    Parameters
    ----------
    spec : NetworkSpec
    n_rows : int
        Rows back-propagated at once.
    itemsize : int

    Returns
    -------
    need : int
        The estimated bytes of one batch.
    """
    # plus the gradient and two optimizer moments, each as large as the weights
    n_params = sum(math.prod(shape) for shape in param_shapes(spec))
    need = (n_rows * bytes_per_image(spec, itemsize, training=True)) + (
        3 * n_params * itemsize
    )
    available = available_memory()
    if available is not None and need > available:
        raise _refuse(f"train on batches of {n_rows} image(s)", need, available, spec)
    return need


def training_rows(estimator, n_samples, full_batch_chunk):
    """Rows one training step back-propagates at once.

    Parameters
    ----------
    estimator : CNNClassifier
    n_samples : int
    full_batch_chunk : int
        Chunk of the full batch that L-BFGS evaluates at once.

    Returns
    -------
    rows : int
    """
    if estimator.solver == "lbfgs":
        return min(full_batch_chunk, n_samples)
    if estimator.batch_size == "auto":
        return min(200, n_samples)
    return min(estimator.batch_size, n_samples)


# glibc's mallopt parameters, and the values steady_heap sets: the largest
# its adaptive thresholds reach by themselves on 64-bit systems, and a trim
# threshold that grows with the training batch up to what the worker
# processes start with (``_processes``)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
TRIM_THRESHOLD_MAX = 256 << 20
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_HEAP_SET = None  # whether steady_heap has set the thresholds (None: not tried)
_HEAP_TRIM = 0  # the trim threshold it set
_HEAP_MALLOPT = None  # the mallopt it set them with


def _glibc_mallopt():
    """glibc's ``mallopt``, or None on other C libraries and systems."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others
            return None
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt


def steady_heap(batch_bytes=0):
    """Keep freed memory in this process's heap for the next batch (glibc).

    The first call sets glibc's mmap threshold to :data:`MMAP_THRESHOLD`
    and its trim threshold to :data:`TRIM_THRESHOLD` (see the module
    docstring); a call for a training batch of ``batch_bytes`` raises the
    trim threshold to that size, at most :data:`TRIM_THRESHOLD_MAX`, so that
    what one batch frees stays for the next (a batch of 16 series through
    the ResNet preset frees more than 64 MiB: at 64 MiB its fit made 270 000
    page faults an epoch and took 1.17x as long). Nothing when
    ``SKLEARN_XCNN_MALLOC=0``, when the process was started with glibc's own
    threshold variables, or away from glibc.

    Parameters
    ----------
    batch_bytes : int, default=0
        Estimated bytes of one training batch (:func:`check_training_memory`).

    Returns
    -------
    set : bool
        Whether the thresholds are this module's.
    """
    global _HEAP_SET, _HEAP_TRIM, _HEAP_MALLOPT
    if _HEAP_SET is None:
        _HEAP_SET = False
        wanted = os.environ.get("SKLEARN_XCNN_MALLOC", "1") != "0"
        if wanted and not any(name in os.environ for name in _USER_SETTINGS):
            mallopt = _glibc_mallopt()
            if mallopt is not None and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
                _HEAP_SET, _HEAP_TRIM, _HEAP_MALLOPT = True, 0, mallopt
    if _HEAP_SET:
        trim = min(max(TRIM_THRESHOLD, int(batch_bytes)), TRIM_THRESHOLD_MAX)
        if trim > _HEAP_TRIM:
            if _HEAP_MALLOPT(_M_TRIM_THRESHOLD, trim):
                _HEAP_TRIM = trim
            elif not _HEAP_TRIM:  # not even the first trim threshold
                _HEAP_SET = False
    return _HEAP_SET
