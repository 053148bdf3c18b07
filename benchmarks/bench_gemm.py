"""The network's matrix products in chunks of rows against one product.

``sklearn_xcnn/_core/_gemm.py`` runs thin products over chunks of rows of at
most ``CHUNK_VOLUME`` multiply-adds (OpenBLAS's direct kernel for small
products); setting that constant to 0 gives the single products it
replaced, so both run in one process, interleaved round by round. Times are
CPU time (``time.process_time``) at one BLAS thread, reported as ``median
[min-max]`` over ``--rounds``:

* the filter gradient ``transposed_product`` (``cols.T @ dout``) alone, for
  the patch-matrix shapes of the two networks below and a few others, in
  float32 and float64;
* the forward ``product`` (``cols @ filters``) and one tap of the input
  gradient (``gemm_add``, added in place) for the plain network's shapes;
* batch norm's deferred term (``Spread.left_product``) for the first block of
  the default network;
* one training step (``loss_and_grad``) of the plain MNIST-shaped network
  (16 and 32 filters, 'valid', no batch norm, batch 128) and of the library
  defaults (same padding, batch norm, dropout, batch 64) on 28x28 float32
  images, and of the ResNet series preset (float32, batch 16, series of
  256).

On an Intel CPU the "chunked" column follows that CPU's rule: products of
``ONE_PRODUCT_COLUMNS`` (64) or more columns run as one product.
``--by-volume`` chunks them by volume all the same (the rule elsewhere), to
measure what the chunks do to them.

Run ``python benchmarks/bench_gemm.py [--rounds 7] [--by-volume]``.
"""

import argparse
import time
import warnings

import numpy as np
from _data import make_mnist_like
from _harness import PLAIN, fmt, machine, table
from scipy.linalg.blas import get_blas_funcs
from threadpoolctl import threadpool_limits

from sklearn_xcnn import CNNClassifier
from sklearn_xcnn._core import _gemm
from sklearn_xcnn._core._network import loss_and_grad
from sklearn_xcnn._core._norm import Spread

CHUNKED = _gemm.CHUNK_VOLUME
VARIANTS = {"one product": 0, "chunked": CHUNKED}

# (rows, K, F): the blocks of the plain network (batch 128) and of the
# defaults (batch 64), then 5x5 kernels and deeper blocks
SHAPES = [
    (86528, 9, 16),
    (15488, 144, 32),
    (50176, 9, 16),
    (12544, 144, 32),
    (50176, 25, 32),
    (12800, 288, 64),
]


def cpu_ms(call, reps):
    """CPU milliseconds of one call, averaged over ``reps`` calls."""
    start = time.process_time()
    for _ in range(reps):
        call()
    return (time.process_time() - start) / reps * 1e3


def interleaved(calls, rounds, reps):
    """``{variant: {name: [ms per round]}}``, the variants alternating."""
    times = {v: {name: [] for name in calls} for v in VARIANTS}
    for _ in range(rounds):
        for name, call in calls.items():
            for variant, volume in VARIANTS.items():
                _gemm.CHUNK_VOLUME = volume
                times[variant][name].append(cpu_ms(call, reps(name)))
    _gemm.CHUNK_VOLUME = CHUNKED
    return times


def step_call(estimator, X, y):
    """One ``loss_and_grad`` call of ``estimator``'s network on a batch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.set_params(max_iter=1).fit(X[:512], y[:512])
    spec, params = estimator._network_spec(), estimator._params()
    n = estimator.batch_size
    Xb = X[:n].reshape(n, *estimator.image_shape_)
    Yb = np.eye(10, dtype=X.dtype)[y[:n]]
    return lambda: loss_and_grad(params, Xb, Yb, spec, 1e-4)


def resnet_step():
    """One ``loss_and_grad`` call of the ResNet preset's network (float32,
    16 series of 256 points, as ``bench_blocks.py`` trains it)."""
    from bench_blocks import _config, _data, _start

    X, y = _data(16, 256, "float32")
    images, spec, params = _start(_config("resnet-preset", 8), X, y)
    Y = np.eye(3, dtype=images.dtype)[y]
    return lambda: loss_and_grad(params, images, Y, spec, 0.0)


def report(times, names):
    rows = []
    for name in names:
        before, after = times["one product"][name], times["chunked"][name]
        ratio = np.median(before) / np.median(after)
        rows.append([name, fmt(before, " ms"), fmt(after, " ms"), f"{ratio:.2f}x"])
    table(rows, ["case", "one product", "chunked", "speed-up"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip-steps", action="store_true")
    parser.add_argument(
        "--by-volume", action="store_true", help="chunk wide products too"
    )
    args = parser.parse_args()
    print(machine())
    if args.by_volume:
        _gemm.ONE_PRODUCT_COLUMNS = None
    wide = _gemm.ONE_PRODUCT_COLUMNS
    print(
        "chunked: every product by volume"
        if wide is None
        else f"chunked: by volume below {wide} columns, one product from {wide}"
    )
    rng = np.random.default_rng(0)
    calls = {}
    for dtype in (np.float32, np.float64):
        for m, K, F in SHAPES:
            cols = rng.standard_normal((m, K)).astype(dtype)
            d = rng.standard_normal((m, F)).astype(dtype)
            name = f"{np.dtype(dtype).name} ({m}x{K}).T @ ({m}x{F})"
            calls[name] = lambda c=cols, d=d: _gemm.transposed_product(c, d)
        # the forward products of the plain network's blocks, and one tap of
        # its second block's input gradient (32 filters back to 16 channels)
        for m, K, F in (*SHAPES[:2], (21632, 32, 16)):
            a = rng.standard_normal((m, K)).astype(dtype)
            b = rng.standard_normal((K, F)).astype(dtype)
            c = np.zeros((m, F), dtype=dtype)
            if K == 32:
                gemm = get_blas_funcs("gemm", (a,))
                name = f"{np.dtype(dtype).name} ({m}x{K}) @ ({K}x{F}) added in place"
                calls[name] = lambda g=gemm, a=a, b=b, c=c: _gemm.gemm_add(g, a, b, c)
            else:
                name = f"{np.dtype(dtype).name} ({m}x{K}) @ ({K}x{F})"
                calls[name] = lambda a=a, b=b, c=c: _gemm.product(a, b, out=c)
    m, K, F = SHAPES[2]
    cols = rng.standard_normal((m, K)).astype(np.float32)
    maps = rng.standard_normal((m, F)).astype(np.float32)
    along, across = rng.standard_normal(F), rng.standard_normal(F)
    spread = Spread(maps, along.astype(np.float32), across.astype(np.float32), None)
    calls[f"float32 Spread.left_product ({m}x{K}, F={F})"] = lambda: (
        spread.left_product(cols)
    )
    products = list(calls)
    if not args.skip_steps:
        X, y = make_mnist_like(2048)
        plain = CNNClassifier(
            n_filters=(16, 32), hidden_units=(128,), batch_size=128, kernel_size=3,
            pool_size=2, pooling="max", random_state=0, **PLAIN,
        )  # fmt: skip
        defaults = CNNClassifier(image_shape=(28, 28), random_state=0)
        calls["step, plain network (batch 128)"] = step_call(plain, X, y)
        calls["step, defaults (batch 64)"] = step_call(defaults, X, y)
        calls["step, ResNet preset (batch 16)"] = resnet_step()

    def reps(name):
        return 5 if name.startswith("step") else 20

    with threadpool_limits(1):
        times = interleaved(calls, args.rounds, reps)
    report(times, products)
    if not args.skip_steps:
        print()
        report(times, [n for n in calls if n not in products])


if __name__ == "__main__":
    main()
