"""Validated input: survey microdata, areas, benchmarks, population frames, area tables.

The only layer that checks raw input; nothing above it re-checks.
"""
