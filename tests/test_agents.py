import numpy as np
import pytest
from scipy import stats

import neurobench
from neurobench.agents import IdealObserver, OracleAgent, RandomAgent
from neurobench.core.rollout import rollout


def _success(record):
    return np.mean([o == "correct" for o in record.outcomes()])


def test_oracle_scores_100_percent(task_name):
    env = neurobench.make(task_name)
    record = rollout(env, OracleAgent(), n_trials=150, seed=0)
    assert record.outcomes() == ["correct"] * 150


def test_ideal_observer_matches_the_analytical_accuracy_of_perceptual_decisions():
    task = neurobench.make_task("PerceptualDecisionMaking")
    record = rollout(neurobench.make(task), IdealObserver(), n_trials=3000, seed=1)
    accuracy = _success(record)
    expected = task.ceiling().value
    error = np.sqrt(expected * (1 - expected) / 3000)
    assert abs(accuracy - expected) < 4 * error
    # per coherence too: P(correct | coh) = Phi(coh/100 * sqrt(N/2) / sigma_step), N = 20
    coh = np.array([r["coh"] for r in record.trials])
    correct = np.array([r["outcome"] == "correct" for r in record.trials])
    for c in (0.0, 6.4, 12.8):
        p = stats.norm.cdf(c / 100 * np.sqrt(10) / 0.1)
        n = np.sum(coh == c)
        assert abs(correct[coh == c].mean() - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-9


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("PerceptualDecisionMaking", {"dim_ring": 4}),
        ("PerceptualDecisionMakingDelayResponse", {}),
        ("PulseDecisionMaking", {"dt": 5.0}),
    ],
)
def test_ideal_observer_reaches_the_stated_ceiling(name, params):
    task = neurobench.make_task(name, **params)
    record = rollout(neurobench.make(task), IdealObserver(), n_trials=1500, seed=2)
    expected = task.ceiling().value
    assert abs(_success(record) - expected) < 4 * np.sqrt(expected * (1 - expected) / 1500)


def test_pulses_shorter_than_a_step_are_rejected():
    with pytest.raises(neurobench.InvalidParameterError, match="cue0 can last 10 ms, less than dt = 20"):
        neurobench.make_task("PulseDecisionMaking", dt=20)


def test_random_agent_is_seeded_and_near_chance_when_it_must_answer_once():
    env = neurobench.make("PerceptualDecisionMaking")
    first = rollout(env, RandomAgent(), n_trials=300, seed=4)
    again = rollout(env, RandomAgent(), n_trials=300, seed=4)
    np.testing.assert_array_equal(first.action, again.action)
    # one decision step, three actions: a third correct, a third wrong, a third missed
    assert abs(_success(first) - 1 / 3) < 4 * np.sqrt(2 / 9 / 300)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("PerceptualDecisionMaking", 0.89, 0.90),
        ("PulseDecisionMaking", 0.96, 0.961),
        ("DelayComparison", 0.99, 1.0),
        ("DelayMatchCategory", 0.95, 0.99),
        ("DelayMatchSample", 0.9999, 1.0),
        ("IntervalDiscrimination", 1.0, 1.0),
    ],
)
def test_ceilings_are_below_one_only_where_noise_or_ties_make_errors_unavoidable(name, low, high):
    ceiling = neurobench.make_task(name).ceiling()
    assert low <= ceiling.value <= high
    assert ceiling.method


def test_chance_is_guessing_among_the_answers():
    assert neurobench.make_task("PerceptualDecisionMaking", dim_ring=4).chance == 0.25
    assert neurobench.make_task("DualDelayMatchSample").chance == 0.25
    assert neurobench.make_task("DelayPairedAssociation").chance == 0.5


@pytest.mark.parametrize(
    ("name", "n_trials", "tolerance"),
    [("DelayMatchSample", 600, 0.0), ("DelayComparison", 2000, 0.0), ("DualDelayMatchSample", 600, 0.0)],
)
def test_ideal_observer_reaches_the_ceiling_of_noisy_working_memory_tasks(name, n_trials, tolerance):
    from neurobench.evaluate import evaluate

    task = neurobench.make_task(name)
    agent = IdealObserver()
    agent.fit(task, seed=0, budget=0)
    records = evaluate(agent, task, seed=3, n_trials=n_trials, num_envs=64)
    success = (records["outcome"] == "correct").mean()
    expected = task.ceiling().value
    assert abs(success - expected) <= 4 * np.sqrt(expected * (1 - expected) / n_trials) + 2 / n_trials + tolerance


def test_ideal_observer_is_the_oracle_on_noise_free_tasks():
    from neurobench.evaluate import evaluate

    task = neurobench.make_task("IntervalDiscrimination")
    agent = IdealObserver()
    agent.fit(task, seed=0, budget=0)
    records = evaluate(agent, task, seed=3, n_trials=300)
    assert (records["outcome"] == "correct").all()


def test_guess_agent_succeeds_at_chance():
    from neurobench.agents import GuessAgent
    from neurobench.evaluate import evaluate

    for name in ("DualDelayMatchSample", "DelayPairedAssociation", "PerceptualDecisionMaking"):
        task = neurobench.make_task(name, **({"dim_ring": 4} if name == "PerceptualDecisionMaking" else {}))
        agent = GuessAgent()
        agent.fit(task, seed=0, budget=0)
        success = (evaluate(agent, task, seed=1, n_trials=3000)["outcome"] == "correct").mean()
        assert abs(success - task.chance) < 4 * np.sqrt(task.chance * (1 - task.chance) / 3000)
