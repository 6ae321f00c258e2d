"""Genuinely multi-agent tasks: two players, trials on a clock, PettingZoo parallel API.

Every game runs trials like the other tasks: a fixation period (``fixation`` input on),
then a choice window (``go`` input on) in which each player's first non-fixation action
is its choice. When both have chosen, or the window ends, the trial is resolved and
paid; the next trial starts. Each player also sees the last trial: its own choice, the
other's choice (one-hot) and its payoff, the feedback the animals got in the papers.

``vs(game, opponent)`` turns a game into a single-agent Gymnasium env against one of the
reference opponents the papers used (e.g. the algorithm-1/algorithm-2 opponents of
matching pennies), so any RL agent can train on it.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidActionError, InvalidParameterError, UnknownNameError
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

    def new_trial(self) -> None:
        self.ground_truth = int(self.np_random.integers(2))
        self.coh = float(self.cohs[self.np_random.integers(len(self.cohs))])

    def trial_conditions(self) -> dict[str, Any]:
        return {"ground_truth": self._resolved[0], "coh": self._resolved[1]}

    def _resolve(self, infos: dict[str, dict[str, Any]]) -> np.ndarray:
        self._resolved = (self.ground_truth, self.coh)
        return super()._resolve(infos)

    def stimulus(self, player: int) -> np.ndarray:
        if self._t >= self.fixation_steps:
            return np.zeros(2, np.float32)
        sign = np.where(np.arange(2) == self.ground_truth, 1.0, -1.0)
        clean = 0.5 + sign * self.coh / 200
        return (clean + self.noise * np.clip(self.np_random.standard_normal(2), -10, 10)).astype(np.float32)


GAMES: dict[str, type[Game]] = {g.__name__: g for g in (MatchingPennies, PrisonersDilemma, JointPerceptualDecision)}


def make_game(name: str, **params: Any) -> Game:
    if name not in GAMES:
        raise UnknownNameError("game", name, GAMES)
    return GAMES[name](**params)


# -- reference opponents ----------------------------------------------------------------


class Opponent(ABC):
    """A computer player: chooses once per trial, when the choice window opens."""

    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def observe(self, obs: np.ndarray) -> None:  # noqa: B027 (most opponents see only the history)
        """What the opponent sees at each step (for opponents that use a stimulus)."""

    @abstractmethod
    def choose(self, game: Game, me: int) -> int:
        """The opponent's choice (index from 0) as player ``me``."""


class RandomOpponent(Opponent):
    """Chooses uniformly: algorithm 0 of Barraclough et al., and a null partner."""

    def choose(self, game: Game, me: int) -> int:
        return int(self.rng.integers(game.n_choices))


class PredictiveOpponent(Opponent):
    """The matching-pennies computer of Barraclough et al. (2004).

    It predicts the other player's next choice from that player's recent history — the
    last 0 to 4 choices (algorithm 1), or choices and rewards (algorithm 2) — keeping the
    prediction whose deviation from 50 % is most significant (binomial test, p < 0.05),
    and chooses each target with the probability that beats the prediction. With no
    significant bias it chooses at random, the equilibrium.
    """

    def __init__(self, with_rewards: bool, max_history: int = 4, alpha: float = 0.05) -> None:
        self.with_rewards, self.max_history, self.alpha = with_rewards, max_history, alpha

    def choose(self, game: Game, me: int) -> int:
        from scipy.stats import binomtest

        other = 1 - me
        events = [
            (c[other], p[other] > 0) if self.with_rewards else (c[other],)
            for c, p in zip(game.history.choices, game.history.payoffs, strict=True)
        ]
        choices = [c[other] for c in game.history.choices]
        best_p, p_first = 1.0, 0.5
        for k in range(self.max_history + 1):
            if len(choices) <= k:
                break
            recent = events[len(events) - k :] if k else []
            matches = [choices[t] for t in range(k, len(choices)) if events[t - k : t] == recent]
            if not matches:
                continue
            firsts = sum(1 for c in matches if c == 0)
            p_value = binomtest(firsts, len(matches), 0.5).pvalue
            if p_value < min(best_p, self.alpha):
                best_p, p_first = p_value, firsts / len(matches)
        match_wins = isinstance(game, MatchingPennies) and me == 0
        p_choose_first = p_first if match_wins else 1.0 - p_first
        return 0 if self.rng.random() < p_choose_first else 1


class TitForTat(Opponent):
    """Cooperates first, then repeats the other player's last choice."""

    def choose(self, game: Game, me: int) -> int:
        return game.history.choices[-1][1 - me] if game.history.choices else 0


@dataclass
class Constant(Opponent):
    """Always the same choice (always cooperate: 0, always defect: 1)."""

    choice: int

    def choose(self, game: Game, me: int) -> int:
        return self.choice


class IdealPartner(Opponent):
    """Sums the stimulus it sees and reports the stronger side: the ideal observer of
    its own noisy view (JointPerceptualDecision)."""

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.evidence = np.zeros(2)

    def observe(self, obs: np.ndarray) -> None:
        self.evidence = self.evidence + obs[2:4]  # the stimulus inputs follow fixation and go

    def choose(self, game: Game, me: int) -> int:
        choice = int(np.argmax(self.evidence))
        self.evidence = np.zeros(2)
        return choice


OPPONENTS: dict[str, dict[str, Any]] = {
    "MatchingPennies": {
        "random": RandomOpponent,
        "algorithm1": lambda: PredictiveOpponent(with_rewards=False),
        "algorithm2": lambda: PredictiveOpponent(with_rewards=True),
    },
    "PrisonersDilemma": {
        "tit_for_tat": TitForTat,
        "always_cooperate": lambda: Constant(0),
        "always_defect": lambda: Constant(1),
        "random": RandomOpponent,
    },
    "JointPerceptualDecision": {"ideal": IdealPartner, "random": RandomOpponent},
}


class VersusOpponent(gym.Env):
    """One player of a game, as a Gymnasium env, against a reference opponent."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(self, game: Game, opponent: str, player: int = 0) -> None:
        choices = OPPONENTS[type(game).__name__]
        if opponent not in choices:
            raise UnknownNameError(f"opponent for {type(game).__name__}", opponent, choices)
        if player not in (0, 1):
            raise InvalidParameterError(f"player must be 0 or 1, got {player!r}")
        self.game, self.player, self.opponent_name = game, player, opponent
        self.opponent: Opponent = choices[opponent]()
        self.me, self.them = PLAYERS[player], PLAYERS[1 - player]
        self.observation_space = game.observation_space(self.me)
        self.action_space = game.action_space(self.me)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        game_seed = None if seed is None else int(self.np_random.integers(2**31))
        observations, infos = self.game.reset(seed=game_seed)
        self.opponent.reset(np.random.default_rng(self.np_random.integers(2**31)))
        self._chosen = False
        self.opponent.observe(observations[self.them])
        return observations[self.me], infos[self.me]

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        theirs = 0
        window = self.game._t >= self.game.fixation_steps
        if window and not self._chosen:
            theirs, self._chosen = self.opponent.choose(self.game, 1 - self.player) + 1, True
        observations, rewards, _, truncations, infos = self.game.step({self.me: action, self.them: theirs})
        info = infos[self.me]
        if info["new_trial"]:
            self._chosen = False
        if self.them in observations:
            self.opponent.observe(observations[self.them])
        return observations[self.me], rewards[self.me], False, truncations[self.me], info


def vs(game: Game | str, opponent: str, player: int = 0, **params: Any) -> VersusOpponent:
    """A single-agent Gymnasium env: ``player`` of ``game`` against ``opponent``."""
    return VersusOpponent(make_game(game, **params) if isinstance(game, str) else game, opponent, player)
