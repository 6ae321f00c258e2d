"""The ecosystem's tools work on NeuroBench as their users write them: Stable-Baselines3
by id, a CleanRL-style loop over ``gymnasium.make_vec``, Gymnasium's own wrappers."""

import gymnasium as gym
import numpy as np
import pytest

import neurobench

pytest.importorskip("torch")
sb3 = pytest.importorskip("stable_baselines3")

ID = "neurobench/PerceptualDecisionMaking-v1"


NAMES = ["PerceptualDecisionMaking", "DelayMatchSample", "ReadySetGo", "ReachingDelayResponse"]


@pytest.mark.parametrize("name", NAMES)
def test_stable_baselines3_env_checker_passes_without_warnings(name):
    import warnings

    from stable_baselines3.common.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning about the env fails the test
        check_env(neurobench.make(name), warn=True)


def test_stable_baselines3_builds_envs_by_id_and_ppo_learns_from_them():
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    envs = make_vec_env(ID, n_envs=4, seed=0)
    assert envs.num_envs == 4
    model = PPO("MlpPolicy", envs, n_steps=128, batch_size=128, n_epochs=2, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=1024)
    assert model.num_timesteps >= 1024
    obs = envs.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (4,)
    assert all(envs.action_space.contains(int(a)) for a in actions)
    episode = envs.get_attr("task")[0]
    assert episode.name == "PerceptualDecisionMaking"


def test_a_cleanrl_style_loop_over_gymnasium_make_vec_records_episode_statistics():
    """CleanRL's PPO loop: ``gym.make_vec``, RecordEpisodeStatistics, NEXT_STEP autoreset."""
    envs = gym.make_vec(ID, num_envs=8, trials_per_episode=5)
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, _ = envs.reset(seed=1)
    rng = np.random.default_rng(0)
    returns, lengths, running, steps = [], [], np.zeros(8), np.zeros(8, dtype=int)
    done = np.zeros(8, dtype=bool)
    for _ in range(400):
        action = np.where(rng.random(8) < 0.9, 0, rng.integers(1, 3, size=8))
        obs, reward, terminated, truncated, info = envs.step(action)
        running = np.where(done, 0.0, running + reward)  # the autoreset step starts a new episode
        steps = np.where(done, 0, steps + 1)
        done = terminated | truncated
        if "episode" in info:
            finished = info["_episode"]
            returns += info["episode"]["r"][finished].tolist()
            lengths += info["episode"]["l"][finished].tolist()
            np.testing.assert_allclose(info["episode"]["r"][finished], running[finished], rtol=1e-5)
            np.testing.assert_array_equal(info["episode"]["l"][finished], steps[finished])
    assert len(returns) >= 8
    assert obs.shape == (8, 3)


def test_gymnasium_wrappers_compose_with_the_single_env():
    env = gym.wrappers.RecordEpisodeStatistics(gym.wrappers.TimeLimit(gym.make(ID), max_episode_steps=50))
    env.reset(seed=0)
    steps = 0
    truncated = terminated = False
    while not (terminated or truncated):
        _, _, terminated, truncated, info = env.step(0)
        steps += 1
    assert truncated
    assert steps == 50
    assert info["episode"]["l"] == 50
