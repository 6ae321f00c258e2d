import gymnasium as gym
import pytest

import neurobench
from neurobench import UnknownNameError


def test_unknown_task_suggests_close_matches_and_lists_valid_names():
    with pytest.raises(UnknownNameError) as error:
        neurobench.make("PerceptualDecisionMakin")
    message = str(error.value)
    assert "Did you mean 'PerceptualDecisionMaking'" in message
    assert "DelayMatchSample" in message  # the valid names are listed


def test_unknown_parameter_is_rejected_with_the_valid_ones():
    with pytest.raises(UnknownNameError) as error:
        neurobench.make("PerceptualDecisionMaking", sigm=1.0)
    assert "'sigma'" in str(error.value)
    assert "trials_per_episode" in str(error.value)  # make() takes env keywords too
    with pytest.raises(UnknownNameError) as error:
        neurobench.make_task("PerceptualDecisionMaking", trials_per_episode=5)
    assert "trials_per_episode" not in str(error.value).split("Valid:")[1]  # a task does not


def test_ids_with_namespace_and_version_resolve():
    for name in ("PerceptualDecisionMaking-v0", "neurobench/PerceptualDecisionMaking-v0"):
        assert neurobench.make(name).task.name == "PerceptualDecisionMaking"
    with pytest.raises(UnknownNameError, match="version"):
        neurobench.make("PerceptualDecisionMaking-v7")


def test_every_task_is_registered_with_gymnasium(task_name):
    env = gym.make(f"neurobench/{task_name}-v0", dt=5)
    assert env.unwrapped.task.dt == 5
    assert env.spec.id == f"neurobench/{task_name}-v0"


def test_task_listing_has_paper_description_and_timing():
    rows = neurobench.tasks()
    assert {r.family for r in rows} >= {"perceptual", "working_memory", "multitask"}
    for row in rows:
        assert row.url.startswith("https://")
        assert row.paper
        assert row.title
        assert row.description
        assert row.timing or row.family == "multitask"  # a schedule's timing is its tasks'
        assert all(isinstance(spec, list) for spec in row.timing.values())
    perceptual = neurobench.tasks(family="perceptual")
    assert {r.name for r in perceptual} == {
        "PerceptualDecisionMaking",
        "PerceptualDecisionMakingDelayResponse",
        "PulseDecisionMaking",
    }


def test_unknown_family_is_rejected():
    with pytest.raises(UnknownNameError, match="working_memory"):
        neurobench.tasks(family="memory")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"timing": {"stim": 100}}, "Unknown period in timing of PerceptualDecisionMaking 'stim'"),
        ({"timing": {"stimulus": None}}, "period 'stimulus' is missing a duration"),
        ({"timing": {"stimulus": -1}}, "timing['stimulus']"),
        ({"timing": {"delay": ("poisson", 3)}}, "unknown distribution 'poisson'"),
        ({"rewards": {"corect": 1}}, "Did you mean 'correct'"),
        ({"rewards": {"correct": float("nan")}}, "rewards['correct']"),
        ({"dt": 0}, "dt must be a positive number"),
        ({"dim_ring": 1}, "dim_ring must be an integer >= 2"),
        ({"cohs": []}, "cohs must be a non-empty list"),
        ({"cohs": ["a"]}, "cohs must be a non-empty list of numbers"),
        ({"sigma": -1}, "sigma must be a finite number >= 0"),
    ],
)
def test_invalid_parameters_name_what_is_wrong(params, fragment):
    with pytest.raises(neurobench.NeuroBenchError) as error:
        neurobench.make("PerceptualDecisionMaking", **params)
    assert fragment in str(error.value)


def test_invalid_env_parameters_are_rejected():
    with pytest.raises(neurobench.InvalidParameterError, match="trials_per_episode"):
        neurobench.make("DelayMatchSample", trials_per_episode=0)


def test_import_needs_no_heavy_optional_dependencies():
    import subprocess
    import sys

    code = (
        "import sys, neurobench, neurobench.run, neurobench.scoring, neurobench.plot; "
        "heavy = [m for m in ('torch', 'ray', 'tensorflow') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
