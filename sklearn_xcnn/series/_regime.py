"""The training regime shared by every series preset, in one place.

FCN, ResNet and InceptionTime differ in their architecture only; how they
train (solver, batch size, schedule, stopping, weights kept) is set here so
that a measured change of the regime (``benchmarks/bench_series.py``) touches
one file. Each preset's ``__init__`` takes its defaults from :data:`TRAINING`.

The published recipe (Adam at ``1e-3``, the rate halved after 50 epochs
without a better training loss, 1 500 to 2 000 epochs, the weights of the
lowest training loss kept) takes hours a data set on a CPU. These defaults
were chosen with ``bench_series.py --params`` on the small UCR/UEA sets aeon
ships (GunPoint, ItalyPowerDemand, ArrowHead, BasicMotions; the figures of
every configuration tried are in ``benchmarks/README.md`` and
``docs/series.rst``): a cosine with the best weights kept, from ``1e-2``
for the FCN and from the published ``1e-3`` for ResNet and InceptionTime
(:data:`PUBLISHED_RATE_TRAINING`), over an epoch budget that grows as the
training set shrinks (``max_iter="auto"``, :func:`auto_max_iter`), so that
a set of a few dozen series gets as many Adam steps as one of a few
hundred.
"""

from .._schedules import auto_max_iter as general_auto_max_iter

TRAINING = {
    "solver": "adam",
    "alpha": 0.0,
    "batch_size": 16,
    "learning_rate": "cosine",
    "learning_rate_init": 1e-2,
    "plateau_factor": 0.5,
    "plateau_patience": 10,
    "max_iter": "auto",
    "n_iter_no_change": 50,
    "keep_best_weights": True,
}
"""Default training parameters of the series presets (name -> value)."""

PUBLISHED_RATE_TRAINING = {**TRAINING, "learning_rate_init": 1e-3}
"""The ResNet and InceptionTime presets' defaults: :data:`TRAINING` at the
published first rate, ``1e-3`` (the FCN keeps ``1e-2``). Seed 0, float32,
100 epochs, ArrowHead: the ResNet scored 0.886 at ``1e-3`` against 0.731 at
``1e-2``, one inception network 0.891 against 0.709; GunPoint held or
rose (``benchmarks/README.md``)."""

AUTO_STEPS = 1000
"""Adam steps (batches) that ``max_iter="auto"`` aims at."""

AUTO_EPOCHS = (100, 500)
"""Fewest and most epochs ``max_iter="auto"`` gives."""


def auto_max_iter(n_samples, batch_size):
    """Epochs of ``max_iter="auto"`` for a fit on ``n_samples`` series.

    Enough epochs for :data:`AUTO_STEPS` batches of ``batch_size`` (cut to
    ``n_samples``; ``"auto"`` is scikit-learn's ``min(200, n_samples)``),
    within :data:`AUTO_EPOCHS`: at batches of 16, 100 epochs from 145
    series up, 500 for 32 series or fewer.

    Parameters
    ----------
    n_samples : int
        Series given to ``fit`` (or to one ``partial_fit`` call).
    batch_size : int or "auto"
        The estimator's ``batch_size``.

    Returns
    -------
    max_iter : int

    Examples
    --------
    >>> from sklearn_xcnn.series._regime import auto_max_iter
    >>> [auto_max_iter(n, 16) for n in (36, 50, 67, 200, 1000)]
    [334, 250, 200, 100, 100]
    """
    return general_auto_max_iter(n_samples, batch_size, AUTO_STEPS, AUTO_EPOCHS)
