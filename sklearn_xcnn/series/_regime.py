"""The training regime shared by every series preset, in one place.

FCN, ResNet and InceptionTime differ in their architecture only; how they
train (solver, batch size, schedule, stopping, weights kept) is set here so
that a measured change of the regime (``benchmarks/bench_series.py``) touches
one file. Each preset's ``__init__`` takes its defaults from :data:`TRAINING`.
"""

TRAINING = {
    "solver": "adam",
    "alpha": 0.0,
    "batch_size": 16,
    "learning_rate": "constant",
    "learning_rate_init": 1e-3,
    "plateau_factor": 0.5,
    "plateau_patience": 10,
    "max_iter": 200,
    "n_iter_no_change": 50,
    "keep_best_weights": False,
}
"""Default training parameters of the series presets (name -> value)."""
