"""The previous step's reward and action as extra inputs.

:class:`Feedback` is a task modifier: nested data in suites, the same inputs in every
consumer through its engine. PassReward and PassAction wrap one env (a
``gymnasium.Wrapper``, NeuroGym's form) or a vector env (a
``gymnasium.vector.VectorWrapper`` appending the inputs to every environment in one array
operation), for envs built outside NeuroBench's tasks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, cast

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int
from neurobench.core.engine import Engine, EngineSession, Session, StepResult, StepView
from neurobench.core.errors import InvalidParameterError
from neurobench.core.seeding import Seed
from neurobench.core.task import Level, Task
from neurobench.wrappers.base import TaskWrapper


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


@dataclass(frozen=True, eq=False)
class Feedback(TaskWrapper):
    """The previous step's reward and action as inputs of a task: what a subject sees as the
    outcome of a choice, and what Wang et al. (2018) give their meta-reinforcement-learning
    networks. Without it a task whose answers are learned from outcomes (Bandit,
    DawTwoStep) shows nothing that tells the better option, and no policy of the
    observations beats chance.

    Unlike :class:`PassReward` and :class:`PassAction` (wrappers of one env), this is a
    task: it is nested data in suites and results, and every consumer (single env, vector
    env, evaluation, RLlib) gets the same inputs from its engine. The inputs depend on what
    the agent does, so there is no Dataset. ``session_trials``: trials of one evaluation
    session (what the outcomes can teach is learned within a session).

    Chance is the inner task's: a stimulus-blind policy ignores the outcomes too. The
    ceiling is the inner task's with the outcomes shown where the task states one
    (``feedback_ceiling``), else the inner ceiling, which bounds every policy whatever it
    sees.
    """

    reward: bool = True
    action: bool = True
    session_trials: int = 100

    def validate(self) -> None:
        if not (self.reward or self.action):
            raise InvalidParameterError("Feedback needs reward=True or action=True (else it adds nothing)")
        check_int("session_trials", self.session_trials, minimum=1)
        if self.action and self.task.continuous:
            raise InvalidParameterError(f"Feedback(action=True) needs discrete actions; {self.task.name} has a Box")

    @cached_property
    def obs_channels(self) -> Channels:
        extra = {"reward": 1} if self.reward else {}
        if self.action:
            extra["action"] = self.task.n_actions
        return self.task.obs_channels.extended(**extra)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        space = self.task.observation_space
        if self.reward:
            space = _extended(space, 1, *reward_range(self.task))
        if self.action:
            space = _extended(space, self.task.n_actions, 0.0, 1.0)
        return space

    @property
    def supervised(self) -> bool:
        return False

    def engine(self, num_envs: int) -> Engine:
        return FeedbackEngine(super().engine(num_envs), self)

    def session(self) -> Session:
        return EngineSession(self.engine(1))

    def feedback(self, actions: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """The inputs ``[n, width]`` that follow a step of ``actions`` that paid ``rewards``."""
        parts = [np.asarray(rewards, np.float32)[:, None]] if self.reward else []
        if self.action:
            parts.append(np.eye(self.task.n_actions, dtype=np.float32)[np.asarray(actions, dtype=np.int64)])
        return np.concatenate(parts, axis=1)

    def blind_policy(self) -> Agent:
        return OnInnerTask(self.task.blind_policy(), self.task)

    def ideal_observer(self) -> Agent:
        """The inner task's observer of outcomes (``feedback_observer``), else its own."""
        own = getattr(self.task, "feedback_observer", None)
        if own is not None:
            return own(self.obs_channels)
        from neurobench.agents.reference import IdealObserver

        return OnInnerTask(IdealObserver(), self.task)

    def _chance(self) -> Level:
        return self.task.chance()

    def _ceiling(self) -> Level:
        """The inner task's ceiling with its outcomes shown (``feedback_ceiling``) where it
        has one and the reward is shown, else its own (a bound whatever the inputs)."""
        own = getattr(self.task, "feedback_ceiling", None)
        return own(self.session_trials) if own is not None and self.reward else self.task.ceiling()


class FeedbackEngine(Engine):
    """Any engine with the previous step's feedback appended to its observations (zero at a
    session's start; a new episode or an abandoned trial does not end the session, so the
    last outcome stays, in the single env and the vector env alike)."""

    task: Feedback

    def __init__(self, inner: Engine, task: Feedback) -> None:
        self.inner, self.task, self.num_envs = inner, task, inner.num_envs
        self._last = np.zeros((inner.num_envs, task.obs_channels.size - task.task.obs_channels.size), np.float32)

    @property
    def key(self) -> Any:
        return self.inner.key

    def reset(self, seed: Seed = None, *, start: int = 0) -> tuple[np.ndarray, StepView]:
        obs, view = self.inner.reset(seed, start=start)
        self._last[:] = 0.0
        return self._with(obs), view

    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> StepResult:
        checked = self.inner.check(actions)
        result = self.inner.step(checked, active)
        fresh = self.task.feedback(checked, result.reward)
        self._last = fresh if active is None else np.where(np.asarray(active)[:, None], fresh, self._last)
        result.obs = self._with(result.obs)
        return result

    def restart(self, envs: np.ndarray) -> None:
        self.inner.restart(envs)  # the session goes on: the last outcome stays what was seen

    def observe(self) -> tuple[np.ndarray, StepView]:
        obs, view = self.inner.observe()
        return self._with(obs), view

    def periods(self) -> np.ndarray:
        return self.inner.periods()

    def _with(self, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, self._last], axis=1)


class OnInnerTask(Agent):
    """An agent of the task a modifier wraps: prepared on it, and shown its inputs only
    (the modifier's extra inputs come last)."""

    name: ClassVar[str] = "on_inner_task"

    def __init__(self, agent: Agent, inner: Task) -> None:
        self.agent, self.inner = agent, inner

    def prepare(self, task: Task) -> None:
        self.agent.prepare(self.inner)

    def initial_state(self, num_envs: int, *, seed: int) -> Any:
        return self.agent.initial_state(num_envs, seed=seed)

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return self.agent.act(obs[:, : self.inner.obs_channels.size], state, info)

    def hidden(self, state: Any) -> np.ndarray | None:
        return self.agent.hidden(state)
