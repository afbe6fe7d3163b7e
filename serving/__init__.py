"""Serving, in five parts:

- serving.http: the HTTP surface (app, routes, request parsers and response formatters,
  error kind -> status, server start, Prometheus metrics);
- serving.scoring: the scoring core, which knows nothing of HTTP (checks, outputs, log
  entries; loaded versions, the online micro-batcher, `wk predict`'s local scoring);
- serving.log: the prediction log (group commit writer, reads, labels);
- serving.traffic: routing, deployments, what a server serves, rollup figures;
- serving.batch: batch runs and their sources and sinks.

Pure policy (validation, routing, outputs, rollups) is kept apart from I/O so it can be
tested without a server or a database."""
