"""The native vector env: Gymnasium conformance, determinism, and agreement with the single env."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import neurobench
from neurobench import InvalidActionError, InvalidParameterError, UnknownNameError
from neurobench.core.stream import TrialStream


def test_spaces_shapes_and_dtypes_follow_the_vector_api(task_name):
    env = neurobench.make_vec(task_name, num_envs=5)
    single = neurobench.make(task_name)
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == single.action_space
    assert env.observation_space.shape == (5, *single.observation_space.shape)
    assert env.action_space == gym.spaces.MultiDiscrete([single.action_space.n] * 5)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space
    assert info["target"].shape == (5,)
    for _ in range(60):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs in env.observation_space
        assert obs.dtype == np.float32
        assert reward.shape == terminated.shape == truncated.shape == (5,)
        assert reward.dtype == np.float64
        assert terminated.dtype == truncated.dtype == bool
        assert info["gt"].shape == info["target"].shape == info["new_trial"].shape == (5,)
        if "trial" in info:
            np.testing.assert_array_equal(info["_trial"], info["new_trial"])
            assert all(v.shape[0] == 5 for v in info["trial"].values())


def test_gymnasium_make_vec_uses_the_native_vector_env():
    env = gym.make_vec("neurobench/DelayMatchSample-v0", num_envs=3, dt=50)
    assert isinstance(env.unwrapped, neurobench.TaskVectorEnv)
    assert env.unwrapped.task.dt == 50
    assert env.reset(seed=0)[0].shape == (3, 3)
    sync = gym.make_vec("neurobench/DelayMatchSample-v0", num_envs=2, vectorization_mode="sync")
    assert sync.reset(seed=0)[0].shape == (2, 3)


def _run(env, seed, steps, policy):
    obs, info = env.reset(seed=seed)
    out = [obs.copy()]
    rewards, records = [], []
    for _ in range(steps):
        obs, reward, _, _truncated, info = env.step(policy(info))
        out.append(obs.copy())
        rewards.append(reward.copy())
        if "trial" in info:
            ended = np.flatnonzero(info["_trial"])
            records += [(int(info["trial"]["index"][i]), int(info["trial"]["outcome"][i])) for i in ended]
    return np.array(out), np.array(rewards), records


def test_same_seed_same_run_different_seed_different():
    env = neurobench.make_vec("PerceptualDecisionMaking", num_envs=8)
    rng = np.random.default_rng(0)
    actions = rng.integers(3, size=(300, 8))
    it = iter(actions)
    a = _run(env, 1, 300, lambda info: next(it))
    it = iter(actions)
    b = _run(neurobench.make_vec("PerceptualDecisionMaking", num_envs=8), 1, 300, lambda info: next(it))
    it = iter(actions)
    c = _run(env, 2, 300, lambda info: next(it))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name", ["PerceptualDecisionMaking", "DualDelayMatchSample", "DelayPairedAssociation"])
def test_one_env_vector_is_the_single_env_step_for_step(name):
    single = neurobench.make(name, trials_per_episode=5)
    vector = neurobench.make_vec(name, num_envs=1, trials_per_episode=5, autoreset_mode="SameStep")
    rng = np.random.default_rng(3)
    obs_s, info_s = single.reset(seed=11)
    obs_v, info_v = vector.reset(seed=11)
    for _ in range(400):
        np.testing.assert_array_equal(obs_s, obs_v[0])
        assert info_s["target"] == info_v["target"][0]
        action = (
            info_s["target"] if rng.random() < 0.7 else int(rng.integers(3 if name != "DelayPairedAssociation" else 2))
        )
        obs_s, r_s, _, trunc_s, info_s = single.step(action)
        obs_v, r_v, _, trunc_v, info_v = vector.step(np.array([action]))
        assert r_s == r_v[0]
        assert trunc_s == trunc_v[0]
        assert info_s["gt"] == info_v["gt"][0]
        assert info_s["new_trial"] == info_v["new_trial"][0]
        if info_s["new_trial"]:
            record = info_s["trial"]
            assert record["index"] == info_v["trial"]["index"][0]
            assert record["outcome"] == neurobench.Outcome(info_v["trial"]["outcome"][0]).name.lower()
            assert record["reward"] == pytest.approx(info_v["trial"]["reward"][0])
            assert record["response"] == info_v["trial"]["response"][0]
        if trunc_s:
            obs_s, info_s = single.reset()
            np.testing.assert_array_equal(info_v["final_obs"][0], obs_s)


def test_columns_run_the_stream_trials_dealt_in_order():
    """Every trial a column runs is the stream's trial of that index (what a single env
    with the same seed runs), and trials are dealt in order without gaps."""
    name = "DelayMatchSample"
    env = neurobench.make_vec(name, num_envs=6, trials_per_episode=None)
    stream = TrialStream.seeded(env.task, 4).take(200)
    obs, info = env.reset(seed=4)
    seen = {c: [obs[c].copy()] for c in range(6)}
    indices = []
    rng = np.random.default_rng(0)
    for _ in range(250):
        action = np.where(rng.random(6) < 0.8, info["target"], rng.integers(3, size=6))
        obs, _, _, _, info = env.step(action)
        for c in range(6):
            if info["new_trial"][c]:
                index = int(info["trial"]["index"][c])
                indices.append(index)
                trial = np.array(seen[c])
                np.testing.assert_array_equal(trial, stream.obs[index, : len(trial)])
                seen[c] = []
            seen[c].append(obs[c].copy())
    assert len(set(indices)) == len(indices)  # no trial dealt twice
    still_running = set(range(max(indices) + 1)) - set(indices)
    assert len(still_running) <= 6  # no trial skipped: the only gaps are trials in play


def test_next_step_autoreset_resets_in_the_following_step():
    env = neurobench.make_vec("PerceptualDecisionMaking", num_envs=2, trials_per_episode=2)
    _, info = env.reset(seed=0)
    truncated = np.zeros(2, dtype=bool)
    while not truncated.any():
        obs, _, _, truncated, info = env.step(info["target"])
    first_obs = obs.copy()
    obs, reward, terminated, truncated2, info = env.step(np.array([1, 1]))
    reset = np.flatnonzero(truncated)
    assert np.all(reward[reset] == 0.0)  # the action was ignored: no abort penalty
    np.testing.assert_array_equal(obs[reset], first_obs[reset])  # a fresh trial was kept
    assert not truncated2[reset].any()
    assert not terminated.any()


def test_same_step_autoreset_reports_the_final_observation():
    env = neurobench.make_vec("DelayMatchSample", num_envs=3, max_steps=4, autoreset_mode=AutoresetMode.SAME_STEP)
    env.reset(seed=0)
    for _ in range(3):
        assert not env.step(np.zeros(3, dtype=int))[3].any()
    _obs, _, _, truncated, info = env.step(np.zeros(3, dtype=int))
    assert truncated.all()
    assert info["_final_obs"].all()
    assert info["final_obs"].shape == (3, 3)
    assert env.step(np.zeros(3, dtype=int))[3].sum() == 0  # new episodes started at once


def test_reset_mask_restarts_only_the_selected_envs():
    env = neurobench.make_vec("DelayMatchSample", num_envs=3, trials_per_episode=None)
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.zeros(3, dtype=int))
    before = env._t.copy()
    env.reset(options={"reset_mask": np.array([True, False, False])})
    assert env._t[0] == 0
    assert env._t[1] == before[1]


@pytest.mark.parametrize(
    ("actions", "fragment"),
    [
        (np.array([0, 1]), "shape (3,)"),
        (np.array([0.0, 1.0, 2.0]), "integer array"),
        (np.array([0, 3, 1]), "action 3 of environment 1"),
        (np.array([0, 0, -1]), "action -1 of environment 2"),
    ],
)
def test_bad_actions_are_rejected_naming_the_environment(actions, fragment):
    env = neurobench.make_vec("PerceptualDecisionMaking", num_envs=3)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        env.step(actions)


@pytest.mark.parametrize("num_envs", [0, -2, 1.5, True])
def test_bad_num_envs_is_rejected(num_envs):
    with pytest.raises(InvalidParameterError, match="num_envs must be an integer >= 1"):
        neurobench.make_vec("PerceptualDecisionMaking", num_envs=num_envs)


def test_unknown_task_and_autoreset_mode_are_rejected():
    with pytest.raises(UnknownNameError, match="PerceptualDecisionMaking"):
        neurobench.make_vec("PerceptualDecision", num_envs=2)
    for mode in ("Disabled", "Sometimes"):
        with pytest.raises(InvalidParameterError, match=rf"'{mode}' is not supported; use one of \['NextStep'"):
            neurobench.make_vec("PerceptualDecisionMaking", num_envs=2, autoreset_mode=mode)


def test_step_before_reset_is_an_error():
    with pytest.raises(gym.error.ResetNeeded):
        neurobench.make_vec("PerceptualDecisionMaking", num_envs=2).step(np.zeros(2, dtype=int))


def test_large_vector_runs_every_task_without_error(task_name):
    env = neurobench.make_vec(task_name, num_envs=256)
    _, info = env.reset(seed=0)
    ended = 0
    for _ in range(3 * int(env.task.mean_steps) + 10):
        _, _, _, _, info = env.step(info["target"])
        ended += info["new_trial"].sum()
    assert ended > 256  # trials ended and were refilled across chunks
