"""Validated input: survey, areas, benchmarks, population frames, area tables, neighbourhoods.

The only layer that checks raw input; nothing above it re-checks.
"""

from lcmodel.discovery import moved_names

__getattr__ = moved_names(
    __name__,
    dict.fromkeys(
        [
            "SurveyData",
            "load_survey_data",
            "parse_deprivation",
            "prepare_survey_data",
            "validate_areas",
            "validate_benchmarks",
        ],
        "lcmodel.data.survey",
    ),
)
"""lcmodel 0.1.0's ``lcmodel.data`` module is now ``lcmodel.data.survey`` (warns)."""
