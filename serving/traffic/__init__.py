"""Traffic: which version answers (router), how each model is deployed (deployments),
what a running server serves (state), and the rollup figures dashboards show."""
