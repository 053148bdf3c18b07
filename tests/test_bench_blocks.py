"""The PyTorch twins of benchmarks/bench_blocks.py compute our networks.

Nothing is timed: with PyTorch installed (it never is a dependency), the twin
built from our ``NetworkSpec`` of a residual, an inception and a plain series
network, loaded with our initial parameters, gives our logits in prediction
and in training mode (batch statistics).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_xcnn._core._network import forward, init_stats

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

SMALL = {
    "resnet": dict(n_filters=(4, 6), kernel_size=5, block="residual",
                   block_depth=2),
    "inception": dict(n_filters=(3, 3), kernel_size=8, block="inception",
                      block_depth=2),
    "fcn": dict(n_filters=(4, 5), kernel_size=(5, 3), pooling="max"),
}  # fmt: skip


@pytest.fixture(scope="module")
def bench():
    pytest.importorskip(
        "torch",
        reason="needs torch, which the benchmarks compare with (never a dependency)",
    )
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_blocks

        yield bench_blocks
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net", sorted(SMALL))
def test_twin_computes_our_network(bench, net, dtype):
    import torch

    X, y = bench._data(12, 30, dtype, seed=2)
    twin, Xt, images, spec, start = bench._twin(dict(SMALL[net]), X, y)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for train in (False, True):
        twin.train(train)
        with torch.no_grad():
            theirs = twin(Xt).numpy()
        stats = None if train else init_stats(spec, images.dtype)
        ours, _ = forward(start, images, spec, train, stats=stats)
        scale = np.abs(theirs).max()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=tolerance * scale)
