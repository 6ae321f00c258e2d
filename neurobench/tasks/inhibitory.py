"""Inhibitory control and detection: withhold when that is the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.registry import TaskSpec
from neurobench.core.task import STANDARD_REWARDS, Level, Paper, TimedTask
from neurobench.core.trials import TrialBatch

GO = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class GoNogo(TimedTask):
    """Go/no-go: a go or a no-go cue is shown; after a delay, go on go trials and keep
    withholding on no-go trials.

    The cue lights its own input during the stimulus (NeuroGym's ``nogo`` and ``go``
    units); the fixation input is on until the decision, when every input goes dark. A
    go answer on a no-go trial, and a missed go, cost 0.5; withholding through a no-go
    decision period is correct (and unrewarded, as in NeuroGym).
    """

    default_timing: ClassVar = {"fixation": 0, "stimulus": 500, "delay": 500, "decision": 500}
    default_rewards: ClassVar = {**STANDARD_REWARDS, "fail": -0.5, "miss": -0.5}

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, nogo=1, go=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, go=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        go = rng.integers(2, size=n)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "stimulus", "delay")
        trials.set("nogo", go == 0, "stimulus")
        trials.set("go", go == 1, "stimulus")
        trials.answer(go, "decision")
        return trials.build(ground_truth=go, answer=go)

    def _chance(self) -> Level:
        return Level(
            0.5, "exact: go and no-go trials are equally likely; always going or always withholding scores 0.5"
        )


SPECS = [
    TaskSpec(
        "GoNogo",
        0,
        GoNogo,
        {},
        "inhibitory",
        ("delayed response", "go-no-go", "inhibitory control", "supervised"),
        Paper(
            "Yu et al. (2019)",
            "Active information maintenance in working memory by a sensory cortex",
            "https://elifesciences.org/articles/43191",
        ),
    ),
]
