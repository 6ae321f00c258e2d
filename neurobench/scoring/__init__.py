"""Scoring: trial records -> metrics -> family aggregates with CIs -> result tables."""

from neurobench.scoring.aggregate import Estimate, aggregate, probability_of_improvement
from neurobench.scoring.metrics import METRICS, normalized, run_metrics
from neurobench.scoring.psychometric import Psychometric, accuracy_by, psychometric

__all__ = [
    "METRICS",
    "Estimate",
    "Psychometric",
    "accuracy_by",
    "aggregate",
    "normalized",
    "probability_of_improvement",
    "psychometric",
    "run_metrics",
]
