"""Matrix products laid out for the BLAS that NumPy's wheels bundle.

The network's products are thin: tens of thousands of rows (the cells of a
batch's maps) against a few dozen columns (channels or filters), or the
transposed product summed over those rows (a filter gradient). OpenBLAS (as
the wheels bundle it; SkylakeX kernels on this AMD EPYC) runs a product of
at most 100**3 multiply-adds through a direct kernel without packing, and a
larger one through its packing GEMM, which is 1.2-2.5x slower per
multiply-add on such shapes. The cliff is the volume ``rows * K * F``, not
the cache: with K=9 and F=16, chunks of 6 944 rows took 0.31 ms a call in
float32 and 0.60 ms in float64, chunks of 6 945 rows 0.62 and 1.50 ms,
though float64's chunk has twice the bytes.

So each product here runs over chunks of rows of at most
:data:`CHUNK_VOLUME` multiply-adds, or as one product where the matrix fits
in one chunk or a chunk would have fewer than :data:`CHUNK_MIN_ROWS` rows
(wide products, which the packing GEMM runs well). CPU time of one thread,
chunked against one product (``benchmarks/README.md``): the filter
gradient 1.5-2.8x faster for K * F of 144 to 1 200, 1.1-1.7x up to 18 432;
the forward product of a 3x3 kernel on one channel 1.6x (float32) and 1.9x
(float64), on 16 channels 1.2x and 1.5x; an input gradient's tap 1.3x and
1.7x. A BLAS without such a kernel pays one call per chunk; at two threads
one product was no faster than the chunks.

On Intel cores the packing GEMM does better: on a Xeon with AVX-512 (the
same SkylakeX kernels), chunks ran products of 64 or more columns 0.6-0.9x
as fast as one product (float32; 0.7-1.1x in float64), while narrower ones
still gained (1.4-1.5x for K=9 and F=16). So on an Intel CPU (as Linux's
``/proc/cpuinfo`` names the vendor) products of at least
:data:`ONE_PRODUCT_COLUMNS` columns run as one product; the ResNet series
preset then predicts 1.18x (float32) and 1.10x (float64) faster and trains
1.08x and 1.04x faster there (``benchmarks/README.md``). A process decides
once, so a machine computes the same way every time.
"""

import numpy as np

# multiply-adds of a chunk: OpenBLAS's direct kernel takes products up to
# 100**3 (see above)
CHUNK_VOLUME = 10**6
# on AMD EPYC, chunks of 14 rows or fewer lost to one product (0.5-0.9x),
# 24 rows were on a par (0.99-1.19x); 54 rows (K=288, F=64) gained 1.1x
# (float32) and 1.4x (float64), 61 rows (K = F = 128, a series network)
# nothing
CHUNK_MIN_ROWS = 32


def cpu_vendor(path="/proc/cpuinfo"):
    """The CPU's vendor as Linux names it (``"GenuineIntel"``,
    ``"AuthenticAMD"``), or ``""`` where ``path`` does not say."""
    try:
        with open(path, encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


# products of at least this many columns out run as one product (None: all
# are chunked by volume); see the module's docstring
ONE_PRODUCT_COLUMNS = 64 if cpu_vendor() == "GenuineIntel" else None


def chunk_rows(m, k, f):
    """Rows per chunk of a product over ``m`` rows with inner size ``k`` and
    ``f`` columns out (or ``k`` by ``f`` summed over the rows): ``m`` for
    one product."""
    if ONE_PRODUCT_COLUMNS is not None and f >= ONE_PRODUCT_COLUMNS:
        return m
    step = CHUNK_VOLUME // max(1, k * f)
    return m if step >= m or step < CHUNK_MIN_ROWS else step


def product(a, b, out=None):
    """``a @ b`` (m, F) for ``a`` (m, K) and ``b`` (K, F), in chunks of rows
    (:func:`chunk_rows`); into ``out`` when given."""
    m, k = a.shape
    step = chunk_rows(m, k, b.shape[1])
    if step == m:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((m, b.shape[1]), dtype=np.result_type(a, b))
    for start in range(0, m, step):
        np.matmul(a[start : start + step], b, out=out[start : start + step])
    return out


def transposed_product(a, b):
    """``a.T @ b`` (K, F) for ``a`` (m, K) and ``b`` (m, F), summed over
    chunks of rows (:func:`chunk_rows`)."""
    m, k = a.shape
    step = chunk_rows(m, k, b.shape[1])
    if step == m:
        return a.T @ b
    total = a[:step].T @ b[:step]
    part = np.empty_like(total)
    for start in range(step, m, step):
        np.matmul(a[start : start + step].T, b[start : start + step], out=part)
        total += part
    return total


def gemm_add(gemm, a, b, c, beta=1.0):
    """Row-major ``c = a @ b + beta * c`` in place (``c`` a contiguous run
    of rows), in chunks of rows (:func:`chunk_rows`), with ``gemm`` SciPy's
    BLAS ``?gemm`` for the dtype. Column-major that is ``c.T = b.T @ a.T +
    beta * c.T``, with transposes that copy nothing."""
    m = a.shape[0]
    step = chunk_rows(m, a.shape[1], b.shape[1])
    for start in range(0, m, step):
        part = c[start : start + step]
        out = gemm(1.0, b.T, a[start : start + step].T, beta, part.T, overwrite_c=1)
        if not np.shares_memory(out, part):  # BLAS worked on a copy
            part[...] = out.T
