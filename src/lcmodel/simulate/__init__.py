"""Synthetic data with known truth: surveys on a synthetic map, and finite populations.

- :mod:`lcmodel.simulate.survey`: :func:`simulate_survey`, the example survey (``data/`` is
  written by it) and its superpopulation truth;
- :mod:`lcmodel.simulate.geography`: the synthetic map (areas' places, boundaries, smooth
  fields);
- :mod:`lcmodel.simulate.population`: :func:`simulate_population`, finite populations with
  every unit's answers, and informative samples from them.
"""

from lcmodel.simulate.population import (
    FinitePopulation,
    PopulationSample,
    simulate_population,
)
from lcmodel.simulate.survey import (
    AGE_BANDS,
    FILE_FORMATS,
    NATIONS,
    QUESTIONS,
    SEXES,
    TARGET_SHARES,
    Question,
    SimulatedSurvey,
    simulate_survey,
)

__all__ = [
    "AGE_BANDS",
    "FILE_FORMATS",
    "NATIONS",
    "QUESTIONS",
    "SEXES",
    "TARGET_SHARES",
    "FinitePopulation",
    "PopulationSample",
    "Question",
    "SimulatedSurvey",
    "simulate_population",
    "simulate_survey",
]
