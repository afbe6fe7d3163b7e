"""Explanations of logged predictions: the replay through the exact version that
answered (serving.explain.replay) and the per-feature contribution math (pure:
serving.explain.contributions, serving.explain.features)."""
