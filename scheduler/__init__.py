"""The scheduler daemon, its job kinds, run records and lock (the scheduler issue).

Declared before it is built so the import contracts in pyproject.toml place it: below
`console`, above `serving`, `monitoring`, `registry` and `store`.
"""
