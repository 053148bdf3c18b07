"""Utilities for sklearn_xcnn."""
