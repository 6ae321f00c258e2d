"""Reference opponents of the games, and ``vs``: one player against one of them.

Each opponent is the computer player (or partner) of a paper: the three matching
pennies algorithms of Barraclough et al. (2004), classic partners of the iterated
prisoner's dilemma, and an ideal-observer partner for the joint perceptual decision.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.tasks.games import PLAYERS, Game, MatchingPennies, make_game


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

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self._events: list[tuple[Any, ...]] = []
        # per history length k: context (the k events before a trial) -> [first choices, trials]
        self._counts: list[defaultdict[tuple[Any, ...], list[int]]] = [
            defaultdict(lambda: [0, 0]) for _ in range(self.max_history + 1)
        ]

    def choose(self, game: Game, me: int) -> int:
        other = 1 - me
        self._count(game, other)
        n = len(self._events)
        best_p, p_first = 1.0, 0.5
        for k in range(min(self.max_history, n - 1) + 1):
            firsts, total = self._counts[k].get(tuple(self._events[n - k :]) if k else (), (0, 0))
            if not total:
                continue
            p_value = _binomial_p(firsts, total)
            if p_value < min(best_p, self.alpha):
                best_p, p_first = p_value, firsts / total
        match_wins = isinstance(game, MatchingPennies) and me == 0
        p_choose_first = p_first if match_wins else 1.0 - p_first
        return 0 if self.rng.random() < p_choose_first else 1

    def _count(self, game: Game, other: int) -> None:
        """Add the trials played since the last choice to the per-context counts."""
        history = game.history
        for t in range(len(self._events), len(history.choices)):
            choice = history.choices[t][other]
            for k in range(min(self.max_history, t) + 1):
                counts = self._counts[k][tuple(self._events[t - k : t])]
                counts[0] += choice == 0
                counts[1] += 1
            won = history.payoffs[t][other] > 0
            self._events.append((choice, won) if self.with_rewards else (choice,))


@functools.cache
def _binomial_p(successes: int, trials: int) -> float:
    """Two-sided binomial test of a fair coin (cached: the same counts recur every trial)."""
    from scipy.stats import binomtest

    return float(binomtest(successes, trials, 0.5).pvalue)


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
    """One player of a game, as a Gymnasium env, against a reference opponent.

    ``info`` follows the task envs: ``window`` (a choice is due), ``target`` (the oracle's
    choice: the best response to the opponent's choice, drawn as the window opens),
    ``new_trial``, and at a trial's end ``trial`` (index, choice, other_choice, payoff,
    ``outcome``: correct when the game's success criterion is met, miss without a choice).
    """

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
        self._theirs: int | None = None  # the opponent's choice this trial, once the window opened
        self.opponent.observe(observations[self.them])
        return observations[self.me], self._annotate(infos[self.me])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        theirs = 0 if self._theirs is None else self._theirs + 1  # the game keeps only the first choice
        observations, rewards, _, truncations, infos = self.game.step({self.me: action, self.them: theirs})
        info = infos[self.me]
        if info["new_trial"]:
            trial = info["trial"]
            choices = (trial["choice"], trial["other_choice"])[:: 1 if self.player == 0 else -1]
            payoffs = self.game.history.payoffs[-1]
            if trial["choice"] == -1:
                trial["outcome"] = "miss"
            else:
                trial["outcome"] = "correct" if self.game.succeeded(self.player, choices, payoffs) else "fail"
            self._theirs = None
        if self.them in observations:
            self.opponent.observe(observations[self.them])
        return observations[self.me], rewards[self.me], False, truncations[self.me], self._annotate(info)

    def _annotate(self, info: dict[str, Any]) -> dict[str, Any]:
        """Draw the opponent's choice as the window opens; say what the oracle would do."""
        window = self.game._t >= self.game.fixation_steps
        if window and self._theirs is None:
            self._theirs = self.opponent.choose(self.game, 1 - self.player)
        info["window"] = int(window)
        info["target"] = self.game.best_response(self.player, self._theirs) + 1 if window else 0
        return info


def vs(game: Game | str, opponent: str, player: int = 0, **params: Any) -> VersusOpponent:
    """A single-agent Gymnasium env: ``player`` of ``game`` against ``opponent``."""
    return VersusOpponent(make_game(game, **params) if isinstance(game, str) else game, opponent, player)
