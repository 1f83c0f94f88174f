"""Results: one result type per model kind, sharing one folder format.

Estimates, waves, prose, plots and export writers.
"""
