"""The conformance kit on every registered task, its older versions, a parameter grid per
family and the modifiers and compositions; and the kit itself can fail."""

from dataclasses import dataclass

import numpy as np
import pytest

import neurobench
from neurobench.core.levels import uniform
from neurobench.core.task import Level
from neurobench.tasks.perceptual import PerceptualDecisionMaking
from neurobench.testing import ConformanceError, check_task
from tests.conftest import ALL_VERSIONS, TASKS


@pytest.mark.parametrize("name", TASKS)
def test_every_registered_task_passes_the_conformance_kit(name):
    check_task(name)


@pytest.mark.parametrize("name", sorted(set(ALL_VERSIONS) - {f"{n}-v{neurobench.spec(n).version}" for n in TASKS}))
def test_every_older_version_still_builds_and_conforms(name):
    check_task(name, level_trials=None)


GRID = [
    {"id": "PerceptualDecisionMaking", "params": {"dim_ring": 3, "dt": 50}},
    {"id": "PerceptualDecisionMaking", "params": {"sigma": 0.0, "cohs": [6.4]}},
    {"id": "PerceptualDecisionMakingDelayResponse", "params": {"stim_scale": 0.5}},
    {"id": "PulseDecisionMaking", "params": {"n_bin": 3, "p_pulse": [0.2, 0.8]}},
    {"id": "DelayMatchSample", "params": {"dim_ring": 8, "sigma": 0.5}},
    {"id": "DelayMatchCategory", "params": {"dim_ring": 6}},
    {"id": "DelayComparison", "params": {"vpairs": [[10, 20], [30, 15]]}},
    {"id": "DualDelayMatchSample", "params": {"sigma": 0.3}},
    {"id": "DelayPairedAssociation", "params": {"sigma": 0.5}},
    {"id": "IntervalDiscrimination", "params": {"dt": 50}},
    {"id": "GoNogo", "params": {"dt": 50, "timing": {"fixation": 200}}},
    {"id": "ReadySetGo", "params": {"gain": 1.5}},
    {"id": "ReachingDelayResponse", "params": {"tolerance": 0.05}},
    {"id": "Bandit", "params": {"n": 3, "block_length": 20}},
    {"id": "DawTwoStep", "params": {"p_common": 0.7, "p_switch": 0.05}},
    {"id": "Versus", "params": {"opponent": "algorithm1", "session_trials": 200}, "task": "MatchingPennies"},
    {
        "id": "Versus",
        "params": {"opponent": "tit_for_tat"},
        "task": {"id": "PrisonersDilemma", "params": {"choice": 300}},
    },
    {"id": "Feedback", "task": "Bandit"},
    {"id": "Feedback", "params": {"action": False, "session_trials": 40}, "task": "DawTwoStep"},
    {"id": "Feedback", "params": {"reward": False}, "task": "PerceptualDecisionMaking"},
    {"id": "Noise", "params": {"std": 0.2, "channels": ["stimulus"]}, "task": "DelayMatchSample"},
    {"id": "ReactionTime", "task": "PerceptualDecisionMaking"},
    {"id": "ReactionTime", "params": {"end_on_stimulus": False}, "task": "PerceptualDecisionMaking"},
    {"id": "TrialHistory", "params": {"session_trials": 200}, "task": "PerceptualDecisionMaking"},
    {"id": "SideBias", "params": {"block_dur": [20, 60], "session_trials": 200}, "task": "PerceptualDecisionMaking"},
    {"id": "ScheduleAttr", "params": {"attribute": "sigma", "values": [0.5, 2.0]}, "task": "PerceptualDecisionMaking"},
    {"id": "Noise", "params": {"std": 0.1}, "task": {"id": "ReactionTime", "task": "PerceptualDecisionMaking"}},
    {"id": "MultiTask", "tasks": ["PerceptualDecisionMaking", "DelayMatchSample", "GoNogo", "DualDelayMatchSample"]},
    {
        "id": "MultiTask",
        "params": {"schedule": "blocks", "block_length": 7},
        "tasks": ["GoNogo", "DelayPairedAssociation"],
    },
    {
        "id": "MultiTask",
        "tasks": ["PerceptualDecisionMaking", {"id": "MultiTask", "tasks": ["DelayMatchSample", "GoNogo"]}],
    },
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: neurobench.make_task(n).name)
def test_the_parameter_grid_modifiers_and_compositions_conform(node):
    check_task(node)


def test_a_versus_task_without_room_above_chance_is_refused_by_scoring():
    """Against tit-for-tat, always cooperating (blind) already gets every trial right."""
    from neurobench.scoring.metrics import check_scorable

    task = neurobench.make_task({"id": "Versus", "params": {"opponent": "tit_for_tat"}, "task": "PrisonersDilemma"})
    with pytest.raises(neurobench.InvalidParameterError, match="cannot be scored"):
        check_scorable(task)


# -- the kit fails broken tasks ---------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False)
class WrongChance(PerceptualDecisionMaking):
    """States a chance its blind policy cannot reach."""

    def _chance(self) -> Level:
        return uniform(4)


@dataclass(frozen=True, kw_only=True, eq=False)
class LeavesItsSpace(PerceptualDecisionMaking):
    """Draws inputs outside its observation space."""

    def sample(self, rng, n):
        batch = super().sample(rng, n)
        batch.obs[:, 0, 0] = 99.0
        return batch


@dataclass(frozen=True, kw_only=True, eq=False)
class Unseeded(PerceptualDecisionMaking):
    """Draws from the global generator instead of the one it is given."""

    def sample(self, rng, n):
        return super().sample(np.random.default_rng(), n)


@pytest.mark.parametrize(
    ("broken", "check"),
    [(WrongChance(), "chance"), (LeavesItsSpace(), "observation"), (Unseeded(), "(?i)determinis")],
)
def test_the_kit_catches_broken_tasks(broken, check):
    with pytest.raises(ConformanceError, match=check):
        check_task(broken)
