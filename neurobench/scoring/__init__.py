"""Scoring: trial records -> metrics -> family aggregates with CIs -> result tables."""

from neurobench.scoring.aggregate import Estimate, aggregate, probability_of_improvement
from neurobench.scoring.metrics import METRICS, check_scorable, normalized, run_metrics
from neurobench.scoring.psychometric import Psychometric, accuracy_by, chronometric, psychometric

__all__ = [
    "METRICS",
    "Estimate",
    "Psychometric",
    "accuracy_by",
    "aggregate",
    "check_scorable",
    "chronometric",
    "normalized",
    "probability_of_improvement",
    "psychometric",
    "run_metrics",
]
