"""Results: one result interface for every model kind, and one folder format.

Estimates, waves, prose, plots, maps, export writers and the model checks of saved results.
"""

from lcmodel.discovery import moved_names

__getattr__ = moved_names(
    __name__, {"FitResult": "lcmodel.results.fit_result", "load": "lcmodel.results.folder"}
)
"""lcmodel 0.1.0's ``lcmodel.results`` module is now these modules (warns)."""
