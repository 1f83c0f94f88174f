"""Backend-free design, in numpy and pandas (no PyMC).

Cells, covariate design, reference populations and estimands, direct estimates, the per-area
inputs of a report, and the ICAR scaling factors of a neighbourhood.
"""
