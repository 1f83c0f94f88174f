"""Inference: the sampler registry, sampling with seeds and core budgets, and diagnostics.

Knows no lcmodel model: it samples any PyMC model.
"""
