"""PassReward and PassAction: the previous step's reward or action as extra inputs.

They depend on what the agent did, so they wrap envs (not tasks). Each has a single-env
form (a ``gymnasium.Wrapper``) and a vector form (a ``gymnasium.vector.VectorWrapper``)
that appends the same inputs to every environment in one array operation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space

from neurobench.core.channels import Channels


class _Feedback(gym.Wrapper, gym.utils.RecordConstructorArgs, ABC):
    """Appends ``width`` inputs computed from the previous (action, reward)."""

    width: int
    low: float
    high: float
    channel: str

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self.observation_space = _extended(cast(gym.spaces.Box, env.observation_space), self.width, self.low, self.high)
        self.obs_channels: Channels = _channels(env).extended(**{self.channel: self.width})

    @abstractmethod
    def feedback(self, action: Any, reward: float) -> np.ndarray:
        """The extra inputs after a step with ``action`` that gave ``reward``."""

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return np.append(obs, np.zeros(self.width, np.float32)), info

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return np.append(obs, self.feedback(action, float(reward))), reward, terminated, truncated, info


class PassReward(_Feedback):
    """The previous reward as one extra input named ``reward``."""

    width, channel = 1, "reward"

    def __init__(self, env: gym.Env) -> None:
        self.low, self.high = _reward_range(env)
        super().__init__(env)

    def feedback(self, action: Any, reward: float) -> np.ndarray:
        return np.array([reward], np.float32)


class PassAction(_Feedback):
    """The previous action, one-hot, as extra inputs named ``action`` (a one-hot code
    rather than NeuroGym's action index: an index is not a sensible network input)."""

    low, high, channel = 0.0, 1.0, "action"

    def __init__(self, env: gym.Env) -> None:
        self.width = int(cast(gym.spaces.Discrete, env.action_space).n)
        super().__init__(env)

    def feedback(self, action: Any, reward: float) -> np.ndarray:
        return np.eye(self.width, dtype=np.float32)[int(action)]


class _VectorFeedback(VectorWrapper, ABC):
    """Vector form: inputs for every environment at once; zero after an autoreset."""

    width: int
    low: float
    high: float

    def __init__(self, env: VectorEnv) -> None:
        super().__init__(env)
        single = cast(gym.spaces.Box, env.single_observation_space)
        self.single_observation_space = _extended(single, self.width, self.low, self.high)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)
        self._next_step = env.metadata.get("autoreset_mode") == AutoresetMode.NEXT_STEP
        self._resetting = np.zeros(env.num_envs, dtype=bool)

    @abstractmethod
    def feedback(self, actions: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """The extra inputs ``[num_envs, width]`` after a vector step."""

    # VectorWrapper's reset and step return its class's type variables unbound, which no override can match
    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:  # type: ignore[override]
        obs, info = self.env.reset(**kwargs)
        self._resetting[:] = False
        return np.concatenate([obs, np.zeros((len(obs), self.width), np.float32)], axis=1), info

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:  # type: ignore[override]
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        extra = self.feedback(np.asarray(actions), np.asarray(rewards, dtype=np.float32))
        extra[self._resetting] = 0.0  # these environments were just reset: nothing to pass
        if self._next_step:
            self._resetting = terminated | truncated
        return np.concatenate([obs, extra], axis=1), rewards, terminated, truncated, info


class PassRewardVector(_VectorFeedback):
    """:class:`PassReward` for vector envs."""

    width = 1

    def __init__(self, env: VectorEnv) -> None:
        self.low, self.high = _reward_range(env)
        super().__init__(env)

    def feedback(self, actions: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        return rewards[:, None].astype(np.float32)


class PassActionVector(_VectorFeedback):
    """:class:`PassAction` for vector envs."""

    low, high = 0.0, 1.0

    def __init__(self, env: VectorEnv) -> None:
        self.width = int(cast(gym.spaces.Discrete, env.single_action_space).n)
        super().__init__(env)

    def feedback(self, actions: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        return np.eye(self.width, dtype=np.float32)[actions]


def _channels(env: gym.Env) -> Channels:
    channels = getattr(env, "obs_channels", None)
    if channels is None:
        channels = env.unwrapped.task.obs_channels  # type: ignore[attr-defined]
    return channels


def _reward_range(env: Any) -> tuple[float, float]:
    """The smallest and largest reward one step can give (bounds of the new input)."""
    return reward_range(env.unwrapped.task)


def reward_range(task: Any) -> tuple[float, float]:
    """Bounds of a task's one-step rewards: from its rule's table and payoffs, or its game's."""
    if hasattr(task, "game"):
        return task.game.payoff_range()
    rewards = [0.0]
    if not task.rule.continuous:
        rewards += [float(task.table.reward.min()), float(task.table.reward.max())]
    else:
        rewards += [float(v) for v in task.rewards.values()]
    payoff = getattr(task, "payoff_range", None)
    if payoff is not None:
        rewards += list(payoff())
    return float(min(rewards)), float(max(rewards))


def _extended(space: gym.spaces.Box, width: int, low: float, high: float) -> gym.spaces.Box:
    """``space`` with ``width`` more inputs bounded by ``low`` and ``high``."""
    return gym.spaces.Box(
        np.append(space.low, np.full(width, low, np.float32)),
        np.append(space.high, np.full(width, high, np.float32)),
        dtype=np.float32,
    )
