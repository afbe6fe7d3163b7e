"""Benchmarks, one command each; figures go to bench/RESULTS.md."""
