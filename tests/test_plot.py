from matplotlib.figure import Figure

import neurobench
import neurobench.plot
from neurobench.agents import OracleAgent


def test_trial_plot_with_an_agent_shows_inputs_actions_rewards_and_periods():
    fig = neurobench.plot.trial("DelayMatchSample", agent=OracleAgent(), n_trials=2, seed=0)
    assert isinstance(fig, Figure)
    inputs, actions, rewards = fig.axes
    labels = {text.get_text() for text in inputs.texts}
    assert {"fixation", "sample", "delay", "test"} <= labels  # the one-step decision is unlabelled
    assert len(inputs.patches) == 2 * 5  # every period of both trials is shaded
    assert [line.get_label() for line in inputs.lines[:3]] == ["fixation", "stimulus[0]", "stimulus[1]"]
    assert {line.get_label() for line in actions.lines} >= {"ground truth", "action"}
    assert rewards.lines[0].get_ydata().max() == 1.0


def test_trial_plot_without_an_agent_draws_whole_trials():
    fig = neurobench.plot.trial("PerceptualDecisionMaking", n_trials=3, dim_ring=8)
    assert len(fig.axes) == 2
    assert fig.axes[0].images  # eight stimulus units drawn as a heat map
    steps = fig.axes[1].lines[0].get_xdata()
    assert len(steps) == 3 * 22


def test_psychometric_curve_of_the_ideal_observer_is_a_sigmoid_through_the_origin():
    import numpy as np

    from neurobench.agents import IdealObserver
    from neurobench.evaluate import evaluate
    from neurobench.scoring import accuracy_by, psychometric

    task = neurobench.make_task("PerceptualDecisionMaking")
    agent = IdealObserver()
    agent.fit(task, seed=0, budget=0)
    records = evaluate(agent, task, seed=0, n_trials=4000)
    curve = psychometric(records)
    np.testing.assert_allclose(curve.x, [-51.2, -25.6, -12.8, -6.4, 0.0, 6.4, 12.8, 25.6, 51.2])
    assert curve.p_first[0] < 0.05
    assert curve.p_first[-1] > 0.95
    assert abs(curve.bias) < 2.0
    assert np.all(np.diff(curve.fitted(curve.x)) > 0)
    by_coh = accuracy_by(records)
    assert by_coh.loc[51.2, "accuracy"] > by_coh.loc[6.4, "accuracy"] > by_coh.loc[0.0, "accuracy"]
    fig = neurobench.plot.psychometric(records)
    assert fig.axes[0].get_xlabel().startswith("signed coh")
