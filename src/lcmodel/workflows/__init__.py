"""Workflows built on fitted results: joint-vs-separate comparison, model checks; many fits."""
