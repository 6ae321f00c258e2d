"""Genuinely multi-agent tasks: two players, trials on a clock, PettingZoo parallel API.

Every game runs trials like the other tasks: a fixation period (``fixation`` input on),
then a choice window (``go`` input on) in which each player's first non-fixation action
is its choice. When both have chosen, or the window ends, the trial is resolved and
paid; the next trial starts. Each player also sees the last trial: its own choice, the
other's choice (one-hot) and its payoff, the feedback the animals got in the papers.

``neurobench.tasks.opponents.vs(game, opponent)`` turns a game into a single-agent
Gymnasium env against one of the reference opponents the papers used (e.g. the
algorithm-1/algorithm-2 opponents of matching pennies), so any RL agent can train on it.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidActionError, InvalidParameterError, UnknownNameError
from neurobench.core.registry import register_game
from neurobench.core.task import Paper
from neurobench.core.timing import to_steps

PLAYERS = ("player_0", "player_1")
MISS = -1  # no choice in the window


@dataclass
class History:
    """Past trials of one game, as the reference opponents read them."""

    choices: list[tuple[int, int]] = field(default_factory=list)  # (player_0, player_1)
    payoffs: list[tuple[float, float]] = field(default_factory=list)


class Game(ParallelEnv, ABC):
    """Two players, ``n_choices`` options, trials of fixation then choice."""

    metadata: dict[str, Any] = {"render_modes": [], "is_parallelizable": True}  # noqa: RUF012
    paper: ClassVar[Paper]
    n_choices: ClassVar[int] = 2

    def __init__(
        self,
        dt: float = 100.0,
        fixation: float = 500.0,
        choice: float = 500.0,
        trials_per_episode: int = 100,
        miss_reward: float = 0.0,
    ) -> None:
        check_number("dt", dt, minimum=1e-9)
        self.fixation_steps = int(to_steps(fixation, dt))
        self.choice_steps = int(to_steps(choice, dt))
        if self.choice_steps < 1:
            raise InvalidParameterError(f"the choice window ({choice:g} ms) must last at least one step of dt={dt:g}")
        check_int("trials_per_episode", trials_per_episode, minimum=1)
        self.dt, self.trials_per_episode, self.miss_reward = dt, trials_per_episode, miss_reward
        self.possible_agents = list(PLAYERS)
        self.agents: list[str] = []
        extra = self.extra_inputs()
        self.channels = Channels(fixation=1, go=1, **extra, own=self.n_choices, other=self.n_choices, payoff=1)
        self._space = gym.spaces.Box(*self.input_bounds(), dtype=np.float32)

    # -- what games define -----------------------------------------------------------
    @abstractmethod
    def payoffs(self, choice_0: int, choice_1: int) -> tuple[float, float]:
        """Rewards of both players for their choices (indices from 0)."""

    @abstractmethod
    def best_response(self, me: int, their_choice: int) -> int:
        """The choice that meets the game's success criterion for player ``me`` when the
        other player chooses ``their_choice`` (what the oracle answers)."""

    @abstractmethod
    def succeeded(self, me: int, choices: tuple[int, int], payoffs: tuple[float, float]) -> bool:
        """Whether a resolved trial counts as a success for player ``me``."""

    def extra_inputs(self) -> dict[str, int]:
        """Inputs besides fixation, go and feedback (e.g. a stimulus)."""
        return {}

    def new_trial(self) -> None:
        """Draw this trial's hidden variables (e.g. a stimulus) with ``self.np_random``."""

    def stimulus(self, player: int) -> np.ndarray:
        """The extra inputs ``player`` sees at the current step."""
        return np.zeros(0, np.float32)

    def payoff_range(self) -> tuple[float, float]:
        """Smallest and largest payoff (the bounds of the payoff input)."""
        rewards = [p for c0 in range(self.n_choices) for c1 in range(self.n_choices) for p in self.payoffs(c0, c1)]
        return min(rewards), max(rewards)

    def input_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        low = np.zeros(self.channels.size, np.float32)
        high = np.ones(self.channels.size, np.float32)
        worst, best = self.payoff_range()
        low[self.channels["payoff"]] = min(worst, self.miss_reward, 0.0)
        high[self.channels["payoff"]] = max(best, self.miss_reward)
        return low, high

    # -- PettingZoo API --------------------------------------------------------------
    @functools.cache  # noqa: B019 (the same space object on every call)
    def observation_space(self, agent: str) -> gym.spaces.Box:
        return self._space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.n_choices + 1)  # 0: fixate, 1..: choices

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        if seed is not None or not hasattr(self, "np_random"):  # unseeded: continue the stream (Gymnasium's rule)
            self.np_random, _ = gym.utils.seeding.np_random(seed)
        self.agents = list(self.possible_agents)
        self.history = History()
        self._trial = -1
        self._last = (np.zeros(2, int) - 1, np.zeros(2))
        self._begin()
        return self._observations(), {a: {"window": False} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise InvalidActionError(f"no action for players {missing}; both act at every step")
        moves = np.array([_checked(actions[a], self.n_choices, a) for a in self.agents])
        rewards = np.zeros(2)
        in_window = self._t >= self.fixation_steps
        if in_window:
            first = (self._choice == MISS) & (moves > 0)
            self._choice[first] = moves[first] - 1
        self._t += 1
        infos: dict[str, dict[str, Any]] = {a: {"new_trial": False} for a in self.agents}
        if in_window and (np.all(self._choice != MISS) or self._t >= self.fixation_steps + self.choice_steps):
            rewards = self._resolve(infos)
        truncated = self._trial >= self.trials_per_episode
        for agent in self.agents:
            infos[agent]["window"] = self._t >= self.fixation_steps
        observations = self._observations()
        result = (
            observations,
            {a: float(r) for a, r in zip(self.agents, rewards, strict=True)},
            dict.fromkeys(self.agents, False),
            dict.fromkeys(self.agents, truncated),
            infos,
        )
        if truncated:
            self.agents = []
        return result

    # -- internals -------------------------------------------------------------------
    def _begin(self) -> None:
        self._trial += 1
        self._t = 0
        self._choice = np.full(2, MISS)
        self.new_trial()

    def _resolve(self, infos: dict[str, dict[str, Any]]) -> np.ndarray:
        choice = self._choice.copy()
        if np.any(choice == MISS):
            payoff = np.full(2, self.miss_reward)
        else:
            payoff = np.array(self.payoffs(int(choice[0]), int(choice[1])))
        self.history.choices.append((int(choice[0]), int(choice[1])))
        self.history.payoffs.append((float(payoff[0]), float(payoff[1])))
        for i, agent in enumerate(self.agents):
            infos[agent].update(
                new_trial=True,
                trial={
                    "index": self._trial,
                    "choice": int(choice[i]),
                    "other_choice": int(choice[1 - i]),
                    "payoff": float(payoff[i]),
                    **self.trial_conditions(),
                },
            )
        self._last = (choice, payoff)
        self._begin()
        return payoff

    def trial_conditions(self) -> dict[str, Any]:
        """Hidden variables of the trial just resolved (for the records)."""
        return {}

    def _observations(self) -> dict[str, np.ndarray]:
        go = self._t >= self.fixation_steps
        choice, payoff = self._last
        out = {}
        for i, agent in enumerate(self.possible_agents):
            obs = np.zeros(self.channels.size, np.float32)
            obs[self.channels["fixation"]] = not go
            obs[self.channels["go"]] = go
            extra = self.stimulus(i)
            if extra.size:
                obs[self.channels[next(iter(self.extra_inputs()))]] = extra
            if choice[i] != MISS:
                obs[self.channels["own"].start + choice[i]] = 1
            if choice[1 - i] != MISS:
                obs[self.channels["other"].start + choice[1 - i]] = 1
            obs[self.channels["payoff"]] = payoff[i]
            out[agent] = np.clip(obs, self._space.low, self._space.high)
        return {a: out[a] for a in self.agents}


def _checked(action: Any, n_choices: int, agent: str) -> int:
    try:
        a = int(np.asarray(action).item())
    except (TypeError, ValueError):
        a = -1
    if not 0 <= a <= n_choices or np.asarray(action).dtype.kind == "f":
        raise InvalidActionError(
            f"action {action!r} of {agent} is not in Discrete({n_choices + 1}): 0 fixates, 1..{n_choices} choose"
        )
    return a


class MatchingPennies(Game):
    """Repeated matching pennies (Barraclough, Conroy & Lee 2004): ``player_0`` wins
    (reward 1) when both choose the same target, ``player_1`` when they differ. The
    equilibrium is to choose at random; the paper's computer opponents punish any
    predictability (see ``opponents``)."""

    paper = Paper(
        "Barraclough, Conroy & Lee (2004)",
        "Prefrontal cortex and decision making in a mixed-strategy game",
        "https://www.nature.com/articles/nn1209",
    )

    def payoffs(self, choice_0: int, choice_1: int) -> tuple[float, float]:
        same = float(choice_0 == choice_1)
        return same, 1.0 - same

    def best_response(self, me: int, their_choice: int) -> int:
        return their_choice if me == 0 else 1 - their_choice

    def succeeded(self, me: int, choices: tuple[int, int], payoffs: tuple[float, float]) -> bool:
        return payoffs[me] > 0  # won the trial


class PrisonersDilemma(Game):
    """The iterated prisoner's dilemma (Haroush & Williams 2015): choice 0 cooperates,
    choice 1 defects. Payoffs, for (you, other): both cooperate 3/5, both defect 1/5, you
    defect on a cooperator 5/5 and the cooperator 0 — the standard T > R > P > S values,
    scaled to [0, 1] (the monkeys' juice amounts kept the same ordering)."""

    paper = Paper(
        "Haroush & Williams (2015)",
        "Neuronal prediction of opponent's behavior during cooperative social interchange in primates",
        "https://www.cell.com/cell/fulltext/S0092-8674(15)00108-4",
    )
    TABLE: ClassVar = {(0, 0): (0.6, 0.6), (0, 1): (0.0, 1.0), (1, 0): (1.0, 0.0), (1, 1): (0.2, 0.2)}

    def payoffs(self, choice_0: int, choice_1: int) -> tuple[float, float]:
        return self.TABLE[choice_0, choice_1]

    def best_response(self, me: int, their_choice: int) -> int:
        return 0  # success is mutual cooperation: cooperate

    def succeeded(self, me: int, choices: tuple[int, int], payoffs: tuple[float, float]) -> bool:
        return choices == (0, 0)


class JointPerceptualDecision(Game):
    """Two observers see one motion stimulus through independent noise and are both
    rewarded when both report its direction correctly (after Bahrami et al. 2010: a
    dyad's joint decision can beat its better member when both share what they saw).

    The stimulus is shown during the fixation period (``stimulus`` inputs, as in
    PerceptualDecisionMaking: ``0.5 +- coh/200`` plus noise of std ``sigma/sqrt(dt)``).
    """

    paper = Paper(
        "Bahrami et al. (2010)",
        "Optimally interacting minds",
        "https://www.science.org/doi/10.1126/science.1185718",
    )

    def __init__(
        self,
        cohs: tuple[float, ...] = (0.0, 6.4, 12.8, 25.6, 51.2),
        sigma: float = 1.0,
        fixation: float = 1000.0,
        **kwargs: Any,
    ) -> None:
        self.cohs, self.sigma = np.asarray(cohs, float), sigma
        check_number("sigma", sigma, minimum=0)
        super().__init__(fixation=fixation, **kwargs)
        self.noise = sigma / np.sqrt(self.dt)

    def extra_inputs(self) -> dict[str, int]:
        return {"stimulus": 2}

    def input_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        low, high = super().input_bounds()
        swing = self.cohs.max() / 200 + 10 * self.sigma / np.sqrt(self.dt)
        low[self.channels["stimulus"]], high[self.channels["stimulus"]] = 0.5 - swing, 0.5 + swing
        return low, high

    def payoffs(self, choice_0: int, choice_1: int) -> tuple[float, float]:
        both = float(choice_0 == self.ground_truth and choice_1 == self.ground_truth)
        return both, both

    def payoff_range(self) -> tuple[float, float]:
        return 0.0, 1.0

    def best_response(self, me: int, their_choice: int) -> int:
        return self.ground_truth

    def succeeded(self, me: int, choices: tuple[int, int], payoffs: tuple[float, float]) -> bool:
        return payoffs[me] > 0  # both reported the direction

    def new_trial(self) -> None:
        self.ground_truth = int(self.np_random.integers(2))
        self.coh = float(self.cohs[self.np_random.integers(len(self.cohs))])

    def trial_conditions(self) -> dict[str, Any]:
        return {"ground_truth": self.ground_truth, "coh": self.coh}

    def stimulus(self, player: int) -> np.ndarray:
        if self._t >= self.fixation_steps:
            return np.zeros(2, np.float32)
        sign = np.where(np.arange(2) == self.ground_truth, 1.0, -1.0)
        clean = 0.5 + sign * self.coh / 200
        return (clean + self.noise * np.clip(self.np_random.standard_normal(2), -10, 10)).astype(np.float32)


GAMES: dict[str, type[Game]] = {g.__name__: g for g in (MatchingPennies, PrisonersDilemma, JointPerceptualDecision)}
FAMILY = "multiagent"
VERSION = 0  # of every game's Gymnasium id; bump when a game's behaviour changes
for _name in GAMES:
    register_game(_name, VERSION)


def make_game(name: str, **params: Any) -> Game:
    if name not in GAMES:
        raise UnknownNameError("game", name, GAMES)
    valid = game_parameters(GAMES[name])
    for key in params:
        if key not in valid:
            raise UnknownNameError(f"parameter of {name}", key, valid)
    return GAMES[name](**params)


def game_parameters(cls: type[Game]) -> set[str]:
    """Keyword parameters a game accepts: its own and, through ``**kwargs``, its bases'."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass in (ParallelEnv, ABC, object):
            continue
        parameters = inspect.signature(init).parameters.values()
        names |= {p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"}
    return names
