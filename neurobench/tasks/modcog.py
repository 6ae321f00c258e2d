"""Mod-Cog (Khona et al. 2023): Yang et al.'s tasks composed with integration and sequences.

Mod-Cog extends the twenty tasks by two compositions, each in two directions, and here
they are parameters of the Yang et al. families (:mod:`neurobench.tasks.yang19`) rather
than new classes:

* ``int`` (``integrate=+1`` for "intr", ``-1`` for "intl"), on the 11 tasks with a memory
  delay: the answer is the base answer rotated by a fixed angular velocity times the
  delay, which is drawn from Mod-Cog's 0-1100 ms, so the network must time the delay;
* ``seq`` (``sequence=+1`` for "seqr", ``-1`` for "seql"), on all 20: the answer is a
  sequence, one direction per 100 ms of a 1000 ms response (500 ms in reaction-time
  forms), moving one step of the same velocity each time, every step scored.

Mod-Cog's code defines 93 tasks (``mod_cog_tasks.py``): the 20, 22 ``int``, 40 ``seq``
and 11 ``intseq`` (integrate and sequence, both +1). Its README lists 82 (without
``intseq``) and the paper counts "up to 132", a number its code does not produce; this
module builds the 73 compositions and the ``ModCog`` collection of all 93.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from neurobench.core.registry import TaskSpec
from neurobench.core.task import Paper
from neurobench.tasks.yang19 import RULES, YANG19, Collection

PAPER = Paper(
    "Khona et al. (2023)",
    "Winning the lottery with neural connectivity constraints: faster learning across cognitive tasks with "
    "spatially constrained sparse RNNs",
    "https://arxiv.org/abs/2207.03523",
)
DELAY_TASKS = (
    "dlygo", "dlyanti", "dlydm1", "dlydm2", "ctxdlydm1", "ctxdlydm2", "multidlydm", "dms", "dnms", "dmc", "dnmc",
)  # fmt: skip
DIRECTIONS = {"r": 1, "l": -1}


def compositions() -> dict[str, tuple[str, int, int]]:
    """Mod-Cog's task names: ``name -> (base task, integrate, sequence)``, in its order."""
    out: dict[str, tuple[str, int, int]] = {}
    for base in DELAY_TASKS:
        for tag, sign in DIRECTIONS.items():
            out[f"{base}int{tag}"] = (base, sign, 0)
    for tag, sign in DIRECTIONS.items():
        for base in RULES:
            out[f"{base}seq{tag}"] = (base, 0, sign)
    for base in DELAY_TASKS:
        out[f"{base}intseq"] = (base, 1, 1)
    return out


TAGS = ("multitask", "ring", "supervised", "modcog")
DEVIATIONS = (
    "Built on the Yang et al. families as NeuroBench defines them (the paper's dt, rings and timing), not on "
    "Mod-Cog's copy of NeuroGym's 2022 port.",
    "One angular velocity for both compositions, 22.5 degrees per 100 ms (one position of Mod-Cog's 16-unit "
    "ring); Mod-Cog rotates go-family stimuli by 0.01 rad/ms instead.",
    "Every integration task draws its delay from 0-1100 ms (Mod-Cog fixes the delayed-DM delay at 500 ms, a "
    "constant rotation, and draws the matching tasks' delay once per environment from the global generator).",
    "Each 100 ms step of a sequence answer is its own response window, and the trial is correct when every "
    "step is within 36 degrees.",
    "Mod-Cog's targets at ring position 15 become 'fixate' (a modulo of the action instead of the position); "
    "here every position is a target. Its go and anti tasks get a 500 ms delay by mistake; here they have none.",
)
SPECS = [
    TaskSpec(
        f"modcog.{name}",
        0,
        YANG19[base][0],
        {**YANG19[base][1], "integrate": integrate, "sequence": sequence, "rule_input": False},
        "modcog",
        TAGS,
        PAPER,
        deviations=DEVIATIONS,
    )
    for name, (base, integrate, sequence) in compositions().items()
]


@dataclass(frozen=True, kw_only=True, eq=False)
class ModCog(Collection):
    """All 93 tasks of Mod-Cog's code interleaved for one network: Yang et al.'s 20 and
    their 73 compositions, each trial's task named by a one-hot rule input (as Mod-Cog's
    dataset recipe does), drawn uniformly."""

    rule_input: bool = field(default=True, init=False)

    names: ClassVar[tuple[str, ...]] = (
        *(f"yang19.{rule}" for rule in RULES),
        *(f"modcog.{name}" for name in compositions()),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "task_params", {**dict(self.task_params), "rule_input": False})
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["task_params"] = {k: v for k, v in self.task_params.items() if k != "rule_input"}
        return out


SPECS.append(
    TaskSpec(
        "ModCog",
        0,
        ModCog,
        {},
        "multitask",
        TAGS,
        PAPER,
        description="Mod-Cog's 93 tasks interleaved for one network, with a rule input",
        deviations=DEVIATIONS,
    )
)
