"""Seeded synthetic data for the benchmarks.

``make_mnist_like`` draws MNIST-shaped images: ten smooth class templates,
each sample one of them moved by a random shift of up to three pixels, with
Gaussian pixel noise, clipped to ``[0, 1]``. It is generated in chunks so that
building a large set never holds more than the output and one chunk.
"""

import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_digits


def _templates(rng, n_classes, size):
    """Smoothed random strokes, one ``(size, size)`` image per class."""
    templates = np.zeros((n_classes, size, size))
    for k in range(n_classes):
        canvas = np.zeros((size, size))
        for _ in range(4):  # four random strokes per class
            r0, c0, r1, c1 = rng.integers(5, size - 5, size=4)
            t = np.linspace(0, 1, 3 * size)
            canvas[
                np.round(r0 + t * (r1 - r0)).astype(int),
                np.round(c0 + t * (c1 - c0)).astype(int),
            ] = 1.0
        smooth = gaussian_filter(canvas, 1.0)
        templates[k] = smooth / smooth.max()
    return templates


def make_mnist_like(
    n_samples=20_000, size=28, n_classes=10, noise=0.3, dtype=np.float32, seed=0
):
    """MNIST-shaped images and labels.

    Parameters
    ----------
    n_samples : int
    size : int
        Images are ``size x size``, one channel.
    n_classes : int
    noise : float
        Standard deviation of the Gaussian pixel noise.
    dtype : numpy dtype
    seed : int

    Returns
    -------
    X : ndarray of shape (n_samples, size * size)
        Flattened images, pixels in ``[0, 1]``.
    y : ndarray of shape (n_samples,)
        Class labels ``0 .. n_classes - 1``.
    """
    rng = np.random.default_rng(seed)
    templates = _templates(rng, n_classes, size)
    X = np.empty((n_samples, size * size), dtype=dtype)
    y = rng.integers(n_classes, size=n_samples)
    chunk = 4096
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        shifts = rng.integers(-3, 4, size=(stop - start, 2))
        images = templates[y[start:stop]]  # (m, size, size)
        for i, (dr, dc) in enumerate(shifts):
            images[i] = np.roll(images[i], (dr, dc), axis=(0, 1))
        images += rng.normal(scale=noise, size=images.shape)
        np.clip(images, 0.0, 1.0, out=images)
        X[start:stop] = images.reshape(stop - start, -1)
    return X, y


def load_digits_scaled(dtype=np.float64):
    """``load_digits`` (1797 flat 8x8 rows) with pixels scaled to ``[0, 1]``."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(dtype), y
