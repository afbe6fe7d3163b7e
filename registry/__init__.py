"""The model lifecycle: register, versions, aliases, promote, rollback, archive,
compare, lineage, training as a job and reproduction.

The CLI, the console and (later) the HTTP API call the functions here, one module per
noun (``models``, ``registration``, ``versions``, ``aliases``, ``datasets``, ``lineage``,
``runs``, ``audit_log``) and ``training``; an action exists once.
"""
