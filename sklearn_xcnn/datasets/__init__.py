"""Synthetic data sets for trying out the CNN classifier."""

from ._samples import make_x_or_not_x

__all__ = ["make_x_or_not_x"]
