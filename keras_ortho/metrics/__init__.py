"""Calibration, feature and filter orthogonality measures."""
