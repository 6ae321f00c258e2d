import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import neurobench
from neurobench import InvalidActionError


def test_gymnasium_env_checker_passes_without_warnings(task_name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(neurobench.make(task_name))
        check_env(gym.make(f"neurobench/{task_name}-v0").unwrapped)


def _trajectory(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs.copy()]
    rewards, records = [], []
    for action in actions:
        obs, reward, _, _, info = env.step(action)
        out.append(obs.copy())
        rewards.append(reward)
        if info["new_trial"]:
            records.append(info["trial"])
    return np.array(out), np.array(rewards), records


def test_same_seed_same_trajectory_different_seed_different(task_name):
    env = neurobench.make(task_name, trials_per_episode=None)
    actions = np.random.default_rng(0).integers(env.action_space.n, size=600)
    first = _trajectory(env, 3, actions)
    again = _trajectory(neurobench.make(task_name, trials_per_episode=None), 3, actions)
    other = _trajectory(env, 4, actions)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[2] == again[2]
    assert not np.array_equal(first[0], other[0])


def test_reset_without_seed_continues_the_trial_stream():
    env = neurobench.make("DelayMatchSample", trials_per_episode=3)
    env.reset(seed=0)
    seen = []
    for _ in range(4):
        truncated = False
        while not truncated:
            _, _, terminated, truncated, info = env.step(0)
            assert not terminated
            if info["new_trial"]:
                seen.append(info["trial"]["index"])
        env.reset()
    assert seen == list(range(12))  # no trial skipped or repeated across episodes


def test_reset_mid_trial_abandons_it_and_starts_the_next():
    env = neurobench.make("DelayMatchSample")
    env.reset(seed=0)
    env.step(0)
    env.reset()
    assert env.trial.index[0] == 1
    assert env.step_in_trial == 0


def test_episode_is_truncated_after_max_steps():
    env = neurobench.make("PerceptualDecisionMaking", trials_per_episode=None, max_steps=5)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(5)]
    assert flags == [False] * 4 + [True]


def test_info_reports_ground_truth_target_and_trial_record():
    env = neurobench.make("PerceptualDecisionMaking")
    obs, info = env.reset(seed=5)
    assert info == {"target": 0, "window": 0, "step": 0}
    assert obs[0] == 1.0  # fixation cue on during the fixation period
    records = []
    while not records:
        action = info["target"]
        obs, reward, _, _, info = env.step(action)
        assert info["gt"] == action
        if info["new_trial"]:
            records.append(info["trial"])
    record = records[0]
    assert record["outcome"] == "correct"
    assert reward == 1.0
    assert record["reward"] == 1.0
    assert set(record) == {"index", "outcome", "reward", "response", "ground_truth", "coh"}
    assert record["response"] == record["ground_truth"] + 1
    assert record["coh"] in (0.0, 6.4, 12.8, 25.6, 51.2)


@pytest.mark.parametrize("action", [-1, 3, 1.5, "1", np.array([1, 2]), None])
def test_actions_outside_the_space_are_rejected_clearly(action):
    env = neurobench.make("PerceptualDecisionMaking")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError) as error:
        env.step(action)
    message = str(error.value)
    assert "Discrete(3)" in message
    assert "0=fixation, 1=choice[0], 2=choice[1]" in message


def test_numpy_integer_actions_are_accepted():
    steps = []
    for actions in ((1, 0, 0, 2), (np.int64(1), np.int8(0), np.array(0), np.uint8(2))):
        env = neurobench.make("PerceptualDecisionMaking")
        env.reset(seed=0)
        steps.append([env.step(action)[1:4] for action in actions])
    assert steps[0] == steps[1]  # numpy integers act exactly as the plain ones
    assert steps[0][0][0] == pytest.approx(-0.1)  # and action 1 really broke fixation


def test_current_trial_exposes_periods_and_conditions():
    env = neurobench.make("DelayMatchSample")
    env.reset(seed=0)
    trial = env.trial
    assert trial.n == 1
    assert list(trial.periods) == ["fixation", "sample", "delay", "test", "decision"]
    assert trial.length[0] == 3 + 5 + 10 + 5 + 9
    assert env.step_in_trial == 0
