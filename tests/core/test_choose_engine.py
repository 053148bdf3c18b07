"""``algorithm="auto"``: the engine follows the measured crossover."""

import pytest

from sklearn_xcnn._core._conv import choose_engine
from sklearn_xcnn._core._network import build_spec


@pytest.mark.parametrize(
    ("image", "kernel", "stride", "expected"),
    [
        ((8, 8, 1), (3, 3), (1, 1), "im2col"),
        ((128, 128, 3), (3, 3), (1, 1), "im2col"),  # small kernels: im2col
        ((128, 128, 3), (5, 5), (1, 1), "im2col"),
        ((28, 28, 1), (7, 7), (1, 1), "scipy"),  # large kernels: FFT
        ((16, 16, 8), (9, 9), (1, 1), "scipy"),
        ((16, 16, 16), (9, 9), (1, 1), "im2col"),  # small map, many channels
        ((8, 8, 1), (7, 7), (1, 1), "im2col"),
        ((64, 64, 1), (7, 7), (2, 2), "im2col"),  # a stride shrinks im2col's work
        ((64, 64, 1), (15, 15), (2, 2), "scipy"),
        # series (one-row kernels): their own crossover, at 24 taps
        ((1, 256, 128), (1, 8), (1, 1), "im2col"),
        ((1, 256, 32), (1, 20), (1, 1), "im2col"),
        ((1, 256, 32), (1, 24), (1, 1), "scipy"),
        ((1, 64, 32), (1, 40), (1, 1), "scipy"),  # whatever the length
        ((1, 256, 1), (1, 40), (1, 2), "im2col"),  # a stride: taps per step
        ((1, 256, 1), (1, 1), (1, 1), "im2col"),
    ],
)
def test_crossover(image, kernel, stride, expected):
    assert choose_engine(image, kernel, stride) == expected


def test_build_spec_picks_per_block():
    spec = build_spec((40, 40, 1), (4, 4), 7, 1, 2, "max", (), "relu", 2, "softmax")
    # 40x40x1 input: FFT; the pooled 17x17x4 map with a 7x7 kernel too; the
    # explicit choice overrides
    assert [b.engine for b in spec.blocks] == ["scipy", "scipy"]
    spec = build_spec(
        (40, 40, 1), (4,), 3, 1, 2, "max", (), "relu", 2, "softmax", "scipy"
    )
    assert spec.blocks[0].engine == "scipy"
    spec = build_spec((40, 40, 1), (4,), 3, 1, 2, "max", (), "relu", 2, "softmax")
    assert spec.blocks[0].engine == "im2col"
