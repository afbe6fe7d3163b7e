"""Serving: the HTTP prediction API, batch scoring, the prediction log, traffic strategies
and feedback. Pure policy (validation, routing, outputs, rollups) is kept apart from I/O
so it can be tested without a server or a database."""
