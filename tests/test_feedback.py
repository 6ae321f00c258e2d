"""Feedback: the previous step's reward and action as inputs, which is what makes the
tasks learned from outcomes (Bandit, DawTwoStep) learnable from the observations."""

import numpy as np
import pytest
from scipy import special

import neurobench
from neurobench.agents.reference import GuessAgent, IdealObserver
from neurobench.core.errors import InvalidParameterError
from neurobench.core.stream import SessionStream
from neurobench.evaluate import evaluate
from neurobench.testing import standard_error

BANDIT = {"id": "Feedback", "task": "Bandit"}
TWO_STEP = {"id": "Feedback", "task": "DawTwoStep"}


def test_the_inputs_after_a_step_are_its_reward_and_its_action_one_hot_and_zero_at_reset():
    env = neurobench.make(BANDIT)
    obs, _ = env.reset(seed=3)
    assert env.unwrapped.task.obs_channels.labels()[-3:] == ["reward", "action[0]", "action[1]"]
    assert np.array_equal(obs[-3:], [0, 0, 0])
    for action in (0, 1, 1, 0, 1):
        obs, reward, *_ = env.step(action)
        assert obs[-3] == reward
        assert np.array_equal(obs[-2:], np.eye(2)[action])


def test_the_single_env_and_the_vector_env_show_the_same_inputs_for_the_same_seed_and_actions():
    actions = np.random.default_rng(0).integers(3, size=(60, 1))
    single = neurobench.make(TWO_STEP)
    vector = neurobench.make_vec(TWO_STEP, 1)
    obs_single, _ = single.reset(seed=11)
    obs_vector, _ = vector.reset(seed=11)
    for action in actions:
        assert np.array_equal(obs_single, obs_vector[0])
        obs_single, reward_single, *_ = single.step(int(action[0]))
        obs_vector, reward_vector, *_ = vector.step(action)
        assert reward_single == reward_vector[0]


def test_without_the_outcomes_no_observer_beats_chance_and_with_them_the_ideal_reaches_the_ceiling():
    for inner in ("Bandit", "DawTwoStep"):
        plain, shown = neurobench.make_task(inner), neurobench.make_task({"id": "Feedback", "task": inner})
        blind = evaluate(IdealObserver(), plain, seed=5, n_trials=10_000)
        assert abs(blind["score"].mean() - plain.chance().value) < 3 * standard_error(plain, blind)
        ideal = evaluate(IdealObserver(), shown, seed=5, n_trials=10_000)
        ceiling = shown.ceiling()
        assert ceiling.value < 0.95  # the outcomes teach, but not everything: 1 was a loose bound
        error = 3 * np.hypot(standard_error(shown, ideal), ceiling.se)
        assert abs(ideal["score"].mean() - ceiling.value) < error
        guess = evaluate(GuessAgent(), shown, seed=5, n_trials=10_000)
        assert abs(guess["score"].mean() - shown.chance().value) < 3 * standard_error(shown, guess)


def test_the_bandit_ceiling_is_the_greedy_posterior_policy_simulated_directly():
    rng = np.random.default_rng(1)
    sessions, trials = 20_000, 100
    p1 = rng.random(sessions)
    favour1 = np.zeros(sessions)
    correct = np.zeros((sessions, trials))
    for t in range(trials):
        correct[:, t] = (favour1 >= t - favour1) == (p1 > 0.5)
        favour1 += rng.random(sessions) < p1  # arm 1 paid or arm 2 did not: evidence for p1
    ceiling = neurobench.make_task(BANDIT).ceiling()
    assert ceiling.kind == "exact"
    assert correct.mean() == pytest.approx(ceiling.value, abs=0.003)
    assert special.betainc(1, 1, 0.5) == pytest.approx(0.5)


def test_a_feedback_task_has_no_dataset_and_bad_parameters_are_refused_by_name():
    with pytest.raises(InvalidParameterError, match="no supervised targets"):
        neurobench.Dataset(neurobench.make_task(BANDIT), batch_size=4, seq_len=10, seed=0)
    with pytest.raises(InvalidParameterError, match="reward=True or action=True"):
        neurobench.make_task({"id": "Feedback", "params": {"reward": False, "action": False}, "task": "Bandit"})
    with pytest.raises(InvalidParameterError, match="session_trials"):
        neurobench.make_task({"id": "Feedback", "params": {"session_trials": 0}, "task": "Bandit"})
    with pytest.raises(InvalidParameterError, match="discrete actions"):
        neurobench.make_task({"id": "Feedback", "task": "ReachingDelayResponse"})


def test_the_evaluation_runs_sessions_of_the_feedback_length():
    records = evaluate(GuessAgent(), neurobench.make_task(BANDIT), seed=0, n_trials=300)
    session, position = np.divmod(records["trial"].to_numpy(), SessionStream.SESSION_STRIDE)
    assert len(records) == 300
    assert np.unique(session).tolist() == [0, 1, 2]
    assert sorted(position.tolist()) == sorted(list(range(100)) * 3)


def test_feedback_goes_outermost_and_nothing_wraps_it():
    for node in (
        {"id": "ReactionTime", "task": {"id": "Feedback", "task": "PerceptualDecisionMaking"}},
        {"id": "Noise", "task": BANDIT},
        {"id": "Feedback", "task": BANDIT},
    ):
        with pytest.raises(InvalidParameterError, match="put Feedback outermost"):
            neurobench.make_task(node)
    with pytest.raises(InvalidParameterError, match="not such a task"):
        neurobench.make_task({"id": "MultiTask", "tasks": [{"id": "Feedback", "task": "PerceptualDecisionMaking"}]})


def test_levels_follow_the_wrapped_tasks_parameters():
    short = neurobench.make_task({"id": "Feedback", "task": {"id": "Bandit", "params": {"block_length": 5}}})
    assert neurobench.make_task(BANDIT).ceiling().value == pytest.approx(0.925, abs=0.001)
    assert short.ceiling().value == pytest.approx(0.725, abs=0.001)  # 1/2, 3/4, 3/4, 13/16, 13/16 over a block of 5


def test_a_restarted_trial_keeps_the_last_outcome_as_the_session_goes_on():
    engine = neurobench.make_task(BANDIT).engine(2)
    engine.reset(0)
    result = engine.step(np.array([0, 1]))
    engine.restart(np.array([0, 1]))
    obs, _ = engine.observe()
    assert np.array_equal(obs[:, -3], result.reward)
    assert np.array_equal(obs[:, -2:], np.eye(2)[[0, 1]])
