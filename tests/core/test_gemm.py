"""The chunked matrix products of :mod:`sklearn_xcnn._core._gemm` against
NumPy's single products, with chunking forced on small matrices."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg.blas import get_blas_funcs

from sklearn_xcnn._core import _gemm
from sklearn_xcnn._core._gemm import chunk_rows, gemm_add, product, transposed_product


@pytest.fixture
def chunk_by_volume(monkeypatch):
    """The rule of a CPU that chunks every product by volume (AMD's)."""
    monkeypatch.setattr(_gemm, "ONE_PRODUCT_COLUMNS", None)


@pytest.fixture
def small_chunks(monkeypatch, chunk_by_volume):
    """Chunks of 7 rows for an inner size of 3 and 5 columns (105 / 15)."""
    monkeypatch.setattr(_gemm, "CHUNK_VOLUME", 105)
    monkeypatch.setattr(_gemm, "CHUNK_MIN_ROWS", 2)


def _draw(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def test_chunk_rows(chunk_by_volume):
    """Chunks of at most CHUNK_VOLUME multiply-adds; one product for a
    matrix that fits in one chunk or whose chunks would be too short."""
    assert chunk_rows(86528, 9, 16) == 10**6 // 144 == 6944
    assert chunk_rows(6944, 9, 16) == 6944  # fits in one chunk
    assert chunk_rows(4208, 256, 128) == 4208  # 30 rows a chunk: too short
    assert chunk_rows(4208, 128, 128) == 61
    assert chunk_rows(4208, 288, 64) == 54


def test_chunk_rows_on_intel(monkeypatch):
    """With ONE_PRODUCT_COLUMNS set (an Intel CPU), a product of that many
    columns or more is one product; narrower ones are chunked as before."""
    monkeypatch.setattr(_gemm, "ONE_PRODUCT_COLUMNS", 64)
    assert chunk_rows(4208, 128, 128) == 4208
    assert chunk_rows(4208, 288, 64) == 4208
    assert chunk_rows(86528, 9, 16) == 6944
    assert chunk_rows(12800, 144, 63) == 10**6 // (144 * 63) == 110  # 63 columns
    assert chunk_rows(15488, 144, 32) == 10**6 // (144 * 32) == 217


@pytest.mark.parametrize(
    "text, vendor",
    [
        (
            "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n",
            "GenuineIntel",
        ),
        ("processor\t: 0\nvendor_id\t: AuthenticAMD\n", "AuthenticAMD"),
        ("processor\t: 0\nCPU implementer\t: 0x41\n", ""),  # an ARM board
    ],
)
def test_cpu_vendor_reads_linux_cpuinfo(tmp_path, text, vendor):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    assert _gemm.cpu_vendor(path) == vendor


def test_cpu_vendor_without_cpuinfo(tmp_path):
    """Where the file does not exist (macOS, Windows) no vendor is named."""
    assert _gemm.cpu_vendor(tmp_path / "missing") == ""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [7, 20, 21, 1])  # one chunk, ragged, whole, a row
def test_chunked_products_match_numpy(small_chunks, dtype, m):
    """``product``, ``transposed_product`` and ``gemm_add`` (beta 0 and 1)
    in chunks of 7 rows equal the single products, a ragged last chunk
    included, and keep the dtype."""
    assert chunk_rows(m, 3, 5) == min(m, 7)
    a, b, t, c = _draw([(m, 3), (3, 5), (m, 5), (m, 5)], dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13)
    out = product(a, b)
    assert out.dtype == dtype
    assert_allclose(out, a @ b, **tol)
    into = np.full((m, 5), np.nan, dtype=dtype)
    assert product(a, b, out=into) is into
    assert_allclose(into, a @ b, **tol)
    total = transposed_product(a, t)
    assert total.dtype == dtype
    assert_allclose(total, a.T @ t, **tol)
    gemm = get_blas_funcs("gemm", (a,))
    for beta in (0.0, 1.0):
        added = c.copy()
        gemm_add(gemm, a, b, added, beta)
        assert_allclose(added, a @ b + beta * c, **tol)


def test_gemm_add_writes_into_a_run_of_rows(small_chunks):
    """``c`` may be a run of rows of a larger matrix (the shifted runs of the
    taps path): only that run changes, in chunks."""
    a, b, big = _draw([(16, 3), (3, 5), (30, 5)], np.float64, seed=1)
    expected = big.copy()
    expected[9:25] += a @ b
    gemm_add(get_blas_funcs("gemm", (a,)), a, b, big[9:25])
    assert_allclose(big, expected, rtol=1e-13)


def test_gemm_add_when_blas_returns_a_copy(small_chunks):
    """A BLAS wrapper that cannot write in place hands back a new array:
    each chunk's result is copied into ``c``."""
    real = get_blas_funcs("gemm", (np.zeros(1),))

    def copying(*args, **kwargs):
        return real(*args, **{**kwargs, "overwrite_c": 0})

    a, b, c = _draw([(20, 3), (3, 5), (20, 5)], np.float64, seed=2)
    added = c.copy()
    gemm_add(copying, a, b, added)
    assert_allclose(added, a @ b + c, rtol=1e-13)
