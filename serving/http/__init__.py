"""The HTTP surface of `wk serve`: the app and its routes, the request parsers and
response formatters of the /predict and MLflow formats, the error-kind -> status map,
the server start and the Prometheus metrics. Scoring itself is serving.scoring's."""
