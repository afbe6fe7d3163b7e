"""The model lifecycle: register, versions, aliases, promote, rollback, archive,
compare, lineage, training as a job and reproduction.

The CLI, the console and (later) the HTTP API call the functions in
``registry.service`` and ``registry.training``; an action exists once.
"""
