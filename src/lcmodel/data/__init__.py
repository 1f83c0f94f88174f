"""Validated input: survey, areas, benchmarks, population frames, area tables, neighbourhoods.

The only layer that checks raw input; nothing above it re-checks.
"""
