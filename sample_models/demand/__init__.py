"""Hourly store demand use case: a gradient-boosted regressor."""
