"""Every figure renders to PNG and SVG, draws what it should, and refuses what it cannot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import neurobench
import neurobench.plot as plot
from neurobench.agents import IdealObserver, OracleAgent
from neurobench.evaluate import evaluate


def _saved(fig, tmp_path, name):
    paths = plot.save(fig, tmp_path / name)
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 5000 for p in paths)
    return paths


@pytest.mark.parametrize(
    "task",
    ["PerceptualDecisionMaking", "DualDelayMatchSample", "ReadySetGo", "ReachingDelayResponse", "MatchingPennies"],
)
def test_trial_plots_render_with_and_without_an_agent(task, tmp_path):
    fig = plot.trial(task, n_trials=2)
    _saved(fig, tmp_path, "whole")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert texts  # period names are written on the figure
    played = plot.trial(task, agent=OracleAgent(), n_trials=2)
    panels = [ax.get_ylabel() for ax in played.axes if ax.get_label() != "<colorbar>"]
    assert panels == ["inputs", "action", "reward"]
    _saved(played, tmp_path, "played")


def test_inputs_are_drawn_as_steps_and_wide_inputs_as_a_heat_map_with_a_colour_bar():
    fig = plot.trial("PerceptualDecisionMaking", n_trials=1)
    line = fig.axes[0].patches or fig.axes[0].collections
    assert line  # stairs: a value holds for its whole time step
    wide = plot.trial({"id": "PerceptualDecisionMaking", "params": {"dim_ring": 16}}, n_trials=1)
    assert any(ax.get_label() == "<colorbar>" for ax in wide.axes)


def test_psychometric_curve_of_the_ideal_observer_rises_from_zero_to_one_on_delay_comparison(tmp_path):
    task = neurobench.make_task("DelayComparison")
    records = evaluate(IdealObserver(), task, seed=0, n_trials=3000)
    from neurobench.scoring.psychometric import psychometric

    curve = psychometric(records, task)
    assert curve.p_first[0] < 0.1
    assert curve.p_first[-1] > 0.9
    assert np.all(np.diff(curve.x) > 0)
    _saved(plot.psychometric(records, task), tmp_path, "psychometric")


def test_psychometric_fit_has_intervals_and_a_degenerate_curve_is_reported_not_drawn(tmp_path):
    from neurobench.scoring.psychometric import psychometric

    records = evaluate(IdealObserver(), "PerceptualDecisionMaking", seed=0, n_trials=3000)
    curve = psychometric(records)
    value, low, high = curve.params["scale"]
    assert low < value < high
    assert curve.fitted is not None
    flat = records.assign(response=1)  # always the first option
    degenerate = psychometric(flat)
    assert degenerate.fitted is None
    assert "flat" in degenerate.warning
    _saved(plot.psychometric(flat), tmp_path, "flat")


def test_psychometric_refuses_a_task_without_two_answers():
    records = evaluate(OracleAgent(), "GoNogo", seed=0, n_trials=50)
    from neurobench.scoring.psychometric import psychometric

    with pytest.raises(neurobench.InvalidParameterError, match="two answers"):
        psychometric(records, strength="answer")


def test_chronometric_curve_of_a_reaction_time_task(tmp_path):
    task = {"id": "ReactionTime", "task": "PerceptualDecisionMaking"}

    from neurobench.agents import BoundedAccumulator

    records = evaluate(BoundedAccumulator(bound=2.0), task, seed=0, n_trials=2000)
    from neurobench.scoring.psychometric import chronometric

    table = chronometric(records)
    assert table["rt"].iloc[0] > table["rt"].iloc[-1]  # slower at low coherence
    _saved(plot.chronometric(records), tmp_path, "chronometric")


def test_the_per_task_breakdown_of_a_multitask_run_renders(tmp_path):
    from neurobench import run as harness
    from tests.test_harness import config

    result = harness.run(
        config("suite=multitask", "agent=guess", "suite.eval_trials=140", "suite.seeds=[0]", run_dir=tmp_path / "m")
    )
    figure = plot.breakdown(result)
    assert len(figure.axes[0].get_xticklabels()) == 7
    _saved(figure, tmp_path, "breakdown")
    with pytest.raises(neurobench.InvalidParameterError, match="no multitask run"):
        plot.breakdown(
            harness.run(config("suite=quick", "agent=guess", "suite.eval_trials=20", run_dir=tmp_path / "q"))
        )
