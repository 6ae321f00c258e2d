"""Agents and the one agent loop: records, per-step records with hidden states, and what
evaluation and plots never do to a trained agent."""

import numpy as np
import pandas as pd
import pytest

import neurobench
import neurobench.plot
from neurobench.agents import GuessAgent, IdealObserver, OracleAgent, RandomAgent
from neurobench.agents.base import Agent
from neurobench.evaluate import evaluate


class LeakyIntegrator(Agent):
    """A tiny recurrent 'network' in numpy: its hidden state is a leaky sum of the inputs."""

    name = "leaky"

    def __init__(self):
        self.fitted = 0

    def fit(self, task, *, seed, budget):
        self.fitted += 1
        self.prepare(task)

    def prepare(self, task):
        self.weights = np.asarray(task.evidence_weights())

    def initial_state(self, num_envs, *, seed):
        return np.zeros((num_envs, self.weights.shape[1]))

    def act(self, obs, state, info):
        state = 0.8 * np.where(np.asarray(info["new_trial"])[:, None], 0.0, state) + obs @ self.weights
        return np.where(np.asarray(info["window"]) == 2, state.argmax(axis=1) + 1, 0), state

    def hidden(self, state):
        return state


def test_records_hold_one_row_per_trial_of_the_first_trials_of_the_stream():
    records = evaluate(OracleAgent(), "DelayMatchSample", seed=3, n_trials=150, num_envs=16)
    assert list(records["trial"]) == list(range(150))
    assert set(records.columns) >= {"trial", "outcome", "score", "reward", "response", "ground_truth"}
    assert (records["outcome"] == "correct").all()
    assert (records["score"] == 1.0).all()


def test_per_step_records_carry_periods_actions_and_the_agents_hidden_state():
    agent = LeakyIntegrator()
    records, steps = evaluate(agent, "PerceptualDecisionMaking", seed=0, n_trials=40, num_envs=8, record_steps=True)
    assert steps.hidden.shape == (len(steps.trial), 2)
    assert set(np.unique(steps.trial)) == set(records["trial"])
    one = steps.of_trial(5)
    names = [steps.period_names[p] for p in one["period"]]
    assert names[0] == "fixation"
    assert "stimulus" in names
    assert list(one["step"]) == list(range(len(one["step"])))
    assert one["hidden"].shape[0] == len(one["step"])
    assert np.abs(one["hidden"]).sum() > 0
    assert agent.fitted == 0  # evaluation prepares, it never trains


def test_plotting_a_trained_agent_never_retrains_it():
    agent = LeakyIntegrator()
    agent.fit(neurobench.make_task("PerceptualDecisionMaking"), seed=0, budget=0)
    weights = agent.weights.copy()
    neurobench.plot.trial("PerceptualDecisionMaking", agent=agent, n_trials=2)
    assert agent.fitted == 1
    assert np.array_equal(agent.weights, weights)


@pytest.mark.parametrize("name", ["PerceptualDecisionMaking", "ReachingDelayResponse", "MatchingPennies"])
def test_the_random_agent_acts_in_every_kind_of_action_space(name):
    records = evaluate(RandomAgent(), name, seed=0, n_trials=30, num_envs=4)
    assert len(records) == 30


def test_the_ideal_observer_refuses_a_task_it_cannot_model_clearly():
    task = neurobench.make_task(
        {"id": "MultiTask", "params": {"rule_input": False}, "tasks": ["PerceptualDecisionMaking", "DelayMatchSample"]}
    )
    with pytest.raises(neurobench.InvalidParameterError, match="no rule input"):
        evaluate(IdealObserver(), task, seed=0, n_trials=10)


def test_the_guess_agent_plays_the_best_blind_policy_withholding_where_that_wins():
    """On a task where most trials are no-go, the best blind answer is to withhold."""
    task = neurobench.make_task(
        {"id": "SideBias", "params": {"probs": [[0.9, 0.1]], "session_trials": 100}, "task": "GoNogo"}
    )
    records = evaluate(GuessAgent(), task, seed=0, n_trials=1000)
    assert records["score"].mean() == pytest.approx(0.9, abs=0.03)
    assert (records["response"] <= 0).mean() > 0.95  # it withholds: never a go (0: held through a no-go window)


@pytest.mark.parametrize("n_trials", [0, -1, 2.5, "10", True])
def test_evaluation_refuses_a_bad_trial_count(n_trials):
    with pytest.raises(neurobench.InvalidParameterError, match="n_trials must be an integer"):
        evaluate(OracleAgent(), "GoNogo", seed=0, n_trials=n_trials)


def test_an_agent_acting_out_of_the_space_is_named_in_the_error():
    class Bad(Agent):
        name = "bad"

        def act(self, obs, state, info):
            return np.full(len(obs), 7), state

    with pytest.raises(neurobench.InvalidActionError, match="agent 'bad' on GoNogo"):
        evaluate(Bad(), "GoNogo", seed=0, n_trials=5)


def test_records_are_a_dataframe_with_categorical_outcomes():
    records = evaluate(RandomAgent(), "GoNogo", seed=0, n_trials=50)
    assert isinstance(records, pd.DataFrame)
    assert list(records["outcome"].cat.categories) == ["correct", "fail", "miss", "abort"]


def test_a_multitasks_observers_acting_on_their_own_envs_only_change_nothing(monkeypatch):
    """ByRule hands a row-independent observer only its own task's envs; played on every
    env instead, the records are the same."""
    from neurobench.tasks.yang19 import RingObserver

    task = neurobench.make_task(
        {"id": "MultiTask", "tasks": ["yang19.dlydm1", "yang19.dms", "yang19.anti", "yang19.dm1"]}
    )
    dispatched = evaluate(IdealObserver(), task, seed=4, n_trials=300, num_envs=32)
    for cls in (IdealObserver, RingObserver):
        monkeypatch.setattr(cls, "row_independent", property(lambda self: False))
    everywhere = evaluate(IdealObserver(), task, seed=4, n_trials=300, num_envs=32)
    pd.testing.assert_frame_equal(dispatched, everywhere)
    assert dispatched["score"].mean() > 0.9
