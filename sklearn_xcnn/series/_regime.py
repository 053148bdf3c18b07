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
every configuration tried are in ``benchmarks/README.md``): a cosine from
``1e-2`` over 100 epochs with the best weights kept came closest to the
published FCN in those epochs.
"""

TRAINING = {
    "solver": "adam",
    "alpha": 0.0,
    "batch_size": 16,
    "learning_rate": "cosine",
    "learning_rate_init": 1e-2,
    "plateau_factor": 0.5,
    "plateau_patience": 10,
    "max_iter": 100,
    "n_iter_no_change": 50,
    "keep_best_weights": True,
}
"""Default training parameters of the series presets (name -> value)."""
