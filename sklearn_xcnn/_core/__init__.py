"""Network core: pure functions on NumPy arrays.

Nothing in this sub-package imports scikit-learn or keeps state between calls.
Images travel through the core channels-last, ``(n_samples, rows, cols,
channels)``; filters are stored ``(n_filters, in_channels, k_rows, k_cols)``.
"""
