"""Credit-default use case: a logistic-regression classifier on loan applications."""
