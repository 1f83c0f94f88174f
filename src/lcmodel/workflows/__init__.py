"""Workflows built on fitted results: joint-vs-separate comparison and model checks."""
