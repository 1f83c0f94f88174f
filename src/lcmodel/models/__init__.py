"""Models: one base class with one ``fit()``, and the model kinds built on it.

Reusable terms and area effects; the unit-level, Fay-Herriot and joint models as thin
subclasses; a registry from spec kind to model class.
"""
