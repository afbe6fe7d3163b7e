"""The user-facing layer: the `wk` command line (console.cli) and, later, the Textual
console. Nothing else imports this package."""
