"""The scoring core, with no HTTP in it: rows are checked against a version's signature,
scored, their outputs shaped, and the log entries built (core); the loaded versions
(model_cache), the online micro-batcher and `wk predict`'s in-process scoring (local)."""
