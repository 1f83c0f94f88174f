"""lcmodel: Bayesian small-area estimation of community survey outcomes."""
