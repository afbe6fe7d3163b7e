"""Drift statistics, data-quality checks, performance metrics (the monitoring issue).

Declared before it is built so the import contracts in pyproject.toml place it: below
`console` and `scheduler`, above `registry` and `store`, and beside `serving`, which it
never imports (it reads the prediction log through `store`).
"""
