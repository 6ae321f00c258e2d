"""Reference agents: random, guess (chance), oracle, and the ideal observer.

They bracket every score: a model's normalized score is 0 at chance and 1 at the ceiling,
and these agents are how chance and ceiling are checked empirically. The guess agent plays
the task's best stimulus-blind policy; it and the ideal observer read ``info["window"]``
(the go cue: a response is due now), never the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.errors import InvalidParameterError
from neurobench.core.rules import FIXATE

if TYPE_CHECKING:
    from neurobench.core.task import Task


class RandomAgent(Agent):
    """Uniformly random actions at every step (its own seeded generator)."""

    name: ClassVar[str] = "random"

    def prepare(self, task: Task) -> None:
        self.space = task.action_space

    def initial_state(self, num_envs: int, *, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    def act(
        self, obs: np.ndarray, state: np.random.Generator, info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.random.Generator]:
        if isinstance(self.space, gym.spaces.Box):
            return state.uniform(self.space.low, self.space.high, size=(len(obs), *self.space.shape)), state
        return state.integers(int(self.space.n), size=len(obs)), state  # type: ignore[attr-defined]


class GuessAgent(Agent):
    """Plays the task's best stimulus-blind policy (``task.blind_policy()``): constant
    answers, or predictions from the trial history where a task has one. Its success is
    the task's chance level."""

    name: ClassVar[str] = "guess"

    def prepare(self, task: Task) -> None:
        self.policy = task.blind_policy()
        self.policy.prepare(task)

    def initial_state(self, num_envs: int, *, seed: int) -> Any:
        return self.policy.initial_state(num_envs, seed=seed)

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return self.policy.act(obs, state, info)


class ConstantAnswers(Agent):
    """The same answer in every trial's ``k``-th response window, given as the window
    closes (withholding where that scores better): the best such answers are found by
    :func:`~neurobench.core.levels.best_constant` on the task's own trials."""

    name: ClassVar[str] = "constant"

    def __init__(self, answers: Sequence[int] | None = None) -> None:
        """``answers``: one per window (the last repeats), when a task knows its best ones."""
        self.given = None if answers is None else np.asarray(answers, dtype=np.int64)

    def prepare(self, task: Task) -> None:
        if self.given is not None:
            self.answers = self.given
            return
        from neurobench.core.levels import best_constant

        answers, _, _ = best_constant(task)  # type: ignore[arg-type]
        self.answers = np.asarray(answers or (FIXATE,), dtype=np.int64)

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(num_envs, dtype=bool), np.full(num_envs, -1, dtype=np.int64)

    def act(
        self, obs: np.ndarray, state: tuple[np.ndarray, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        open_window, window_index, closing = _windows(state, info)
        answer = self.answers[np.clip(window_index, 0, len(self.answers) - 1)]
        return np.where(closing, answer, FIXATE), (open_window, window_index)


def _windows(
    state: tuple[np.ndarray, np.ndarray, *tuple[np.ndarray, ...]], info: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each env is among its trial's response windows, from ``(was_window,
    window_index, ...)``: whether a window is open after this step, the index of the
    current (or last) window (-1 before the first), and whether a window closes now."""
    was_window, window_index = state[0], state[1]
    new_trial = np.asarray(info["new_trial"])
    window = np.asarray(info["window"]) > 0
    window_index = np.where(new_trial, -1, window_index) + (window & (~was_window | new_trial))
    closing = np.asarray(info["window"]) == 2
    return window & ~closing, window_index, closing


class ConstantAnswersByRule(Agent):
    """The constant answers of several tasks in one pass: each env plays the answers of
    the task its rule input names (summed over the trial so far, the likeliest task).
    What :class:`ByRule` over :class:`ConstantAnswers` does, without a call per task and
    step (Mod-Cog has 93 tasks)."""

    name: ClassVar[str] = "constant"

    def __init__(self, answers: Sequence[Sequence[int]], rule: slice) -> None:
        """``answers``: per task, one per response window (the last repeats)."""
        width = max(len(a) for a in answers)
        self.table = np.array([[*a, *[a[-1]] * (width - len(a))] for a in answers], dtype=np.int64)
        self.rule = rule

    @property
    def row_independent(self) -> bool:
        return True

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tasks = len(self.table)
        return np.zeros(num_envs, dtype=bool), np.full(num_envs, -1, dtype=np.int64), np.zeros((num_envs, tasks))

    def act(
        self, obs: np.ndarray, state: tuple[np.ndarray, np.ndarray, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        rule = np.where(np.asarray(info["new_trial"])[:, None], 0.0, state[2]) + obs[:, self.rule]
        open_window, window_index, closing = _windows(state, info)
        answer = self.table[rule.argmax(axis=1), np.clip(window_index, 0, self.table.shape[1] - 1)]
        return np.where(closing, answer, FIXATE), (open_window, window_index, rule)


class ByRule(Agent):
    """For a MultiTask with a rule input: each trial is played by the policy of the task
    the rule input names (the rule input is a cue, not the stimulus)."""

    name: ClassVar[str] = "by_rule"

    def __init__(self, policies: Sequence[Agent], tasks: Sequence[Task], rule: slice) -> None:
        self.policies, self.tasks, self.rule = list(policies), list(tasks), rule

    def prepare(self, task: Task) -> None:
        for policy, sub in zip(self.policies, self.tasks, strict=True):
            policy.prepare(sub)

    def initial_state(self, num_envs: int, *, seed: int) -> list[Any]:
        return [p.initial_state(num_envs, seed=seed + k) for k, p in enumerate(self.policies)]

    def act(self, obs: np.ndarray, state: list[Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[Any]]:
        """Row-independent policies act on their own task's envs only (Mod-Cog's 93
        observers would otherwise each play every env); the others see every env, so
        their draws do not depend on how the envs are spread over tasks."""
        which = obs[:, self.rule].argmax(axis=1)
        actions = np.zeros(len(obs), dtype=np.int64)
        states = []
        for k, (policy, sub) in enumerate(zip(self.policies, self.tasks, strict=True)):
            inputs = obs[:, : sub.obs_channels.size]
            if not policy.row_independent:
                chosen, substate = policy.act(inputs, state[k], info)
                actions = np.where(which == k, chosen, actions)
            else:
                rows = np.flatnonzero(which == k)
                substate = state[k]
                if rows.size:
                    own = {key: _rows_of(value, rows, len(obs)) for key, value in info.items()}
                    chosen, part = policy.act(inputs[rows], _take_rows(state[k], rows), own)
                    actions[rows] = chosen
                    substate = _put_rows(state[k], rows, part)
            states.append(substate)
        return actions, states


def _rows_of(value: Any, rows: np.ndarray, num_envs: int) -> Any:
    """An info entry's values for the envs ``rows`` (entries not per env pass unchanged)."""
    return value[rows] if isinstance(value, np.ndarray) and value.shape[:1] == (num_envs,) else value


def _take_rows(state: Any, rows: np.ndarray) -> Any:
    """The envs ``rows`` of a state made of arrays (leading axis: env), dicts and tuples."""
    if state is None:
        return None
    if isinstance(state, dict):
        return {key: _take_rows(value, rows) for key, value in state.items()}
    if isinstance(state, tuple | list):
        return type(state)(_take_rows(value, rows) for value in state)
    return np.asarray(state)[rows]


def _put_rows(state: Any, rows: np.ndarray, part: Any) -> Any:
    """``state`` with the envs ``rows`` replaced by ``part`` (``state`` is not modified)."""
    if state is None:
        return None
    if isinstance(state, dict):
        return {key: _put_rows(value, rows, part[key]) for key, value in state.items()}
    if isinstance(state, tuple | list):
        return type(state)(_put_rows(v, rows, p) for v, p in zip(state, part, strict=True))
    whole = np.array(state, copy=True)
    whole[rows] = part
    return whole


class OracleAgent(Agent):
    """Always takes the correct action: the ceiling of noise-free tasks."""

    name: ClassVar[str] = "oracle"

    @property
    def row_independent(self) -> bool:
        return True

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return np.asarray(info["target"]), state


class IdealObserver(Agent):
    """The Bayes-optimal observer: the real ceiling of a task.

    Its answers come from the noisy observations alone; it only reads *when* to answer
    (``info["window"]``: it answers on a window's last step, with all the evidence the
    window brings) and where it is in the trial (``info["step"]``).

    * Tasks with an evidence readout (``task.evidence_weights()``: a sufficient statistic,
      e.g. the perceptual family): it sums the readout over the trial and answers the
      argmax. Exact.
    * Tasks that bring their own (``task.ideal_observer()``: games, timing, value tasks).
    * Noise-free tasks: the observations determine the answer, so it answers correctly
      (it is the oracle there).
    * Other noisy tasks: it compares the observations, step by step, with noise-free
      trials of the task (``TEMPLATES`` of them, drawn from the task's own condition
      distribution, duplicates merged and weighted by their frequency), keeps the Gaussian
      log-likelihood of each, and answers the answer with the largest posterior mass.
      Exact for tasks with finitely many conditions (all are drawn). For continuous ones it
      approximates the prior by the templates, which is coarse when several continuous
      variables combine: on DelayMatchCategory it reaches about 0.963 where the exact
      per-stimulus Bayes observer of ``task.ceiling()`` reaches 0.972.
    """

    name: ClassVar[str] = "ideal"
    TEMPLATES = 3000

    def prepare(self, task: Task) -> None:
        own = getattr(task, "ideal_observer", None)
        readout = getattr(task, "evidence_weights", None)
        if own is not None:
            self.mode, self.delegate = "delegate", own()
            self.delegate.prepare(task)
        elif readout is not None:
            self.mode, self.weights = "evidence", np.asarray(readout(), dtype=np.float64)
        elif task.noise_std == 0:
            self.mode = "exact"
        elif _noise_free(task) is not None:
            self.mode, self.templates = "templates", _Templates(task, self.TEMPLATES)
        else:
            raise InvalidParameterError(
                f"the ideal observer needs a noise-free task, an evidence readout, its own observer, or a task "
                f"with a sigma parameter to draw noise-free templates from; {task.name} has none"
            )

    @property
    def row_independent(self) -> bool:
        mode = getattr(self, "mode", None)  # set by prepare()
        return self.delegate.row_independent if mode == "delegate" else mode is not None

    def initial_state(self, num_envs: int, *, seed: int) -> Any:
        if self.mode == "delegate":
            return self.delegate.initial_state(num_envs, seed=seed)
        if self.mode == "evidence":
            return np.zeros((num_envs, self.weights.shape[1]))
        if self.mode == "templates":
            return np.zeros((num_envs, len(self.templates.weight)))
        return None

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        if self.mode == "delegate":
            return self.delegate.act(obs, state, info)
        if self.mode == "exact":
            return np.asarray(info["target"]), None
        new_trial = np.asarray(info["new_trial"])
        closing = np.asarray(info["window"]) == 2  # answer with all the evidence the window gives
        state = np.where(new_trial[:, None], 0.0, state)
        if self.mode == "evidence":
            state = state + obs @ self.weights
            return np.where(closing, state.argmax(axis=1) + 1, FIXATE), state
        state = state + self.templates.log_likelihood(obs, np.asarray(info["step"]))
        answers = self.templates.best_answers(state, np.asarray(info["step"]))
        return np.where(closing, answers, FIXATE), state


def _noise_free(task: Task) -> Task | None:
    """``task`` with its stimulus noise removed (``sigma=0``), if it has such a parameter."""
    from neurobench.core.errors import NeuroBenchError
    from neurobench.core.registry import rebuilt

    try:
        return rebuilt(task, {"sigma": 0.0})
    except (NeuroBenchError, TypeError):
        return None


class _Templates:
    """Noise-free trials of a task, for the ideal observer's likelihoods."""

    def __init__(self, task: Task, n: int) -> None:
        from neurobench.core.stream import TrialStream

        clean = _noise_free(task)
        batch = TrialStream(clean, 0).take(n)  # type: ignore[arg-type]
        noisy = TrialStream(task, 0).take(min(n, 64))  # type: ignore[arg-type]
        differs = np.abs(noisy.obs - batch.obs[: noisy.n]).max(axis=(0, 1)) > 0
        keys = np.concatenate([batch.obs.reshape(batch.n, -1), batch.target.astype(np.float32)], axis=1)
        _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
        self.obs = batch.obs[first].transpose(1, 0, 2)  # [T, H, D]
        self.target = batch.target[first].T  # [T, H]
        self.weight = counts / counts.sum()
        # noisy inputs: Gaussian likelihood; noise-free ones must match (a steep penalty)
        self.precision = np.where(differs, 1 / task.noise_std**2, 1e6)
        self.answers = np.unique(self.target)

    def log_likelihood(self, obs: np.ndarray, step: np.ndarray) -> np.ndarray:
        """``[E, H]`` log-likelihood of each environment's observation under each template."""
        step = np.minimum(step, len(self.obs) - 1)
        error = obs[:, None, :] - self.obs[step]  # [E, H, D]
        return -0.5 * np.einsum("ehd,ehd,d->eh", error, error, self.precision)

    def best_answers(self, log_likelihood: np.ndarray, step: np.ndarray) -> np.ndarray:
        """The answer with the largest posterior mass, per environment, at ``step``."""
        step = np.minimum(step, len(self.obs) - 1)
        posterior = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True)) * self.weight
        expected = self.target[step]  # [E, H] the answer each template wants now
        mass = np.stack([(posterior * (expected == a)).sum(axis=1) for a in self.answers], axis=1)
        return self.answers[mass.argmax(axis=1)]


class BoundedAccumulator(Agent):
    """Accumulates a task's evidence readout (``evidence_weights``) and answers as soon as
    the leading option leads by ``bound`` inside a response window (at the window's last
    step otherwise): the drift-diffusion account of reaction times (Roitman & Shadlen 2002).
    A higher bound trades speed for accuracy; on reaction-time tasks its chronometric curve
    falls with coherence."""

    name: ClassVar[str] = "bounded"

    def __init__(self, bound: float = 2.0) -> None:
        self.bound = float(bound)

    def prepare(self, task: Task) -> None:
        readout = getattr(task, "evidence_weights", None)
        if readout is None:
            raise InvalidParameterError(
                f"BoundedAccumulator needs a task with an evidence readout; {task.name} has none"
            )
        self.weights = np.asarray(readout(), dtype=np.float64)

    def initial_state(self, num_envs: int, *, seed: int) -> np.ndarray:
        return np.zeros((num_envs, self.weights.shape[1]))

    def act(self, obs: np.ndarray, state: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        state = np.where(np.asarray(info["new_trial"])[:, None], 0.0, state) + obs @ self.weights
        ranked = np.sort(state, axis=1)
        lead = ranked[:, -1] - ranked[:, -2]
        window = np.asarray(info["window"])
        go = (window == 2) | ((window > 0) & (lead >= self.bound))
        return np.where(go, np.argmax(state, axis=1) + 1, FIXATE), state


class ConstantReport(Agent):
    """The same report every trial, for continuous-report tasks: ``[1, value]`` while a
    response is due, ``[-1, value]`` (fixating) otherwise."""

    name: ClassVar[str] = "constant_report"

    def __init__(self, value: float) -> None:
        self.value = value

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        go = np.where(np.asarray(info["window"]) > 0, 1.0, -1.0)
        return np.stack([go, np.full(len(obs), self.value)], axis=1).astype(np.float32), state
