"""The catalog: the one module that imports the task modules and registers their specs.

Task modules declare their specs as data (``SPECS``); importing them registers nothing.
This module registers every family, modifier and composition, in a fixed order, when
``neurobench`` is imported.
"""

from __future__ import annotations

from neurobench.core.registry import TaskSpec, register
from neurobench.multi.views import Combined
from neurobench.tasks import (
    context,
    games,
    inhibitory,
    modcog,
    motor,
    perceptual,
    reasoning,
    timing,
    value,
    working_memory,
    yang19,
)
from neurobench.tasks.opponents import Versus
from neurobench.wrappers.feedback import Feedback
from neurobench.wrappers.ground_truth import RandomGroundTruth, TrialHistoryV2
from neurobench.wrappers.history import SideBias, TrialHistory
from neurobench.wrappers.noise import Noise
from neurobench.wrappers.reaction_time import ReactionTime
from neurobench.wrappers.schedule import MultiTask, ScheduleAttr

FAMILIES = (perceptual, working_memory, context, inhibitory, timing, motor, value, reasoning, yang19, modcog, games)

MODIFIERS = [
    TaskSpec("Noise", 0, Noise, kind="modifier", description="Extra Gaussian noise on the observations"),
    TaskSpec("ReactionTime", 0, ReactionTime, kind="modifier", description="Answer any time from stimulus onset"),
    TaskSpec(
        "TrialHistory", 0, TrialHistory, kind="modifier", description="Answers that repeat or alternate in blocks"
    ),
    TaskSpec("SideBias", 0, SideBias, kind="modifier", description="Blocks with their own answer probabilities"),
    TaskSpec("RandomGroundTruth", 0, RandomGroundTruth, kind="modifier", description="Answers drawn with given odds"),
    TaskSpec("TrialHistoryV2", 0, TrialHistoryV2, kind="modifier", description="Answers from a transition matrix"),
    TaskSpec("ScheduleAttr", 0, ScheduleAttr, kind="modifier", description="One parameter switched across blocks"),
    TaskSpec("Versus", 0, Versus, kind="modifier", description="A game played against a reference opponent"),
    TaskSpec("Feedback", 0, Feedback, kind="modifier", description="The previous reward and action as inputs"),
]
_YANG = "Task representations in neural networks trained to perform many cognitive tasks"
COMPOSITIONS = [
    TaskSpec(
        "MultiTask",
        version,
        MultiTask,
        params,
        "multitask",
        ("multitask",),
        None,
        "composition",
        "Several tasks interleaved across trials, with a rule input",
    )
    for version, params in ((0, {"stream": "sequential"}), (1, {}))
]
COMPOSITIONS.append(TaskSpec("Combine", 1, Combined, kind="composition", description="Tasks side by side on one clock"))

for _module in FAMILIES:
    for _spec in _module.SPECS:
        register(_spec)
for _spec in (*MODIFIERS, *COMPOSITIONS):
    register(_spec)
