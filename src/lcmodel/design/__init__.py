"""Backend-free design, in numpy and pandas (no PyMC).

Cells, covariate design, reference populations and estimands, direct estimates, and the
per-area inputs of a report.
"""
