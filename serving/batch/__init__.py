"""Batch scoring: the run (run) and where it reads and writes (io)."""
