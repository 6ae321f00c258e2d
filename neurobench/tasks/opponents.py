"""Opponents, and ``Versus``: a game as a one-player task against one of them.

An opponent is a vectorized policy over the shared history of each environment's session:
it plans its choice for a trial when the choice window opens (from what it has seen of
the whole session), and learns from every completed trial. Missed trials teach it
nothing.

* Matching pennies (Barraclough, Conroy & Lee 2004): the computer's algorithms. Algorithm 1
  predicts the monkey's next choice from its previous 0-4 choices, conditioned on the
  whole session; algorithm 2 adds the previous 0-4 (choice, reward) pairs, pooled with
  algorithm 1's tests as in the lab's code. The prediction whose deviation from 50% is
  most significant (two-sided binomial test, p < 0.05) is countered: the computer picks
  the target the monkey is predicted *not* to choose with the predicted probability.
* Prisoner's dilemma: Haroush & Williams (2015) had two monkeys play each other; the
  single-agent opponents are classic strategies, attributed where they come from:
  tit-for-tat (Axelrod & Hamilton 1981) and win-stay lose-shift with 5% execution errors
  (Nowak & Sigmund 1993), plus constant and random players.
* Joint perceptual decision: an ideal partner (the Bayes-optimal observer of its own view,
  reporting its confidence and weighing the agent's report).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from scipy import stats

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.step import Now, State, StepOutcome, StepTask
from neurobench.core.task import Level, Paper, Task
from neurobench.tasks.games import MISS, ChoiceGame, JointPerceptualDecision, MatchingPennies, PrisonersDilemma

if TYPE_CHECKING:
    from neurobench.agents.base import Agent


class Opponent(ABC):
    """A computer player of a :class:`~neurobench.tasks.games.ChoiceGame`, for ``n``
    sessions at once; it sits in ``player_1``'s seat."""

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {}

    @abstractmethod
    def probs(self, game: ChoiceGame, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """Its mixed strategy ``[m, n_choices]`` for the next trial of sessions ``rows``."""

    def update(  # noqa: B027 (opponents that learn nothing keep this)
        self, state: dict[str, np.ndarray], rows: np.ndarray, theirs: np.ndarray, mine: np.ndarray, won: np.ndarray
    ) -> None:
        """Learn from completed trials: the other player's choices, its own, and whether
        the other player won (was paid more than nothing)."""


class RandomChoice(Opponent):
    """Chooses uniformly: algorithm 0 of Barraclough et al., and a null partner."""

    def probs(self, game: ChoiceGame, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return np.full((len(rows), game.n_choices), 1 / game.n_choices)


@dataclass
class ConstantChoice(Opponent):
    """Always the same choice (prisoner's dilemma: 0 cooperates, 1 defects)."""

    choice: int

    def probs(self, game: ChoiceGame, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return np.eye(game.n_choices)[np.full(len(rows), self.choice)]


class TitForTat(Opponent):
    """Cooperates first, then repeats the other player's last choice (Axelrod &
    Hamilton 1981); a missed trial is not a choice to repeat."""

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {"last": np.zeros(n, dtype=np.int64)}

    def probs(self, game: ChoiceGame, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return np.eye(game.n_choices)[state["last"][rows]]

    def update(
        self, state: dict[str, np.ndarray], rows: np.ndarray, theirs: np.ndarray, mine: np.ndarray, won: np.ndarray
    ) -> None:
        state["last"][rows] = theirs


@dataclass
class ErringOpponent(Opponent):
    """An opponent that intends a choice (``state["next"]``) and executes the other one by
    mistake with probability ``error``."""

    error: float = 0.05

    def probs(self, game: ChoiceGame, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        intended = np.eye(game.n_choices)[state["next"][rows]]
        return intended * (1 - self.error) + (1 - intended) * self.error / (game.n_choices - 1)


@dataclass
class WinStayLoseShift(ErringOpponent):
    """Win-stay lose-shift ("Pavlov", Nowak & Sigmund 1993): repeats its choice after the
    reward or the temptation payoff, switches after the sucker's or the punishment payoff;
    it cooperates first, and executes the other choice by mistake with probability
    ``error``. Against it, a stimulus-blind cooperator is exploited after its first mistake;
    recovering mutual cooperation takes reading the partner."""

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {"next": np.zeros(n, dtype=np.int64)}

    def update(
        self, state: dict[str, np.ndarray], rows: np.ndarray, theirs: np.ndarray, mine: np.ndarray, won: np.ndarray
    ) -> None:
        my_payoff = PrisonersDilemma.DROPS[theirs, mine, 1]
        stay = my_payoff >= PrisonersDilemma.DROPS[0, 0, 1]  # the reward (4) or the temptation (6)
        state["next"][rows] = np.where(stay, mine, 1 - mine)


@dataclass
class ProbingTitForTat(ErringOpponent):
    """Tit-for-tat that treats its own lapses as probes, as Axelrod's (1980) TESTER probed
    once: it cooperates first, then copies the other player's last choice, executing the
    other choice by mistake with probability ``error``. When it has defected unprovoked (a
    lapse) and the other player cooperates on the next trial, letting it pass, it defects
    until the other player defects.

    Against it a blind cooperator is exploited from the first lapse on, and a defector is
    met with defection: 2 drops a trial against 4 for mutual cooperation, and an unprovoked
    defection costs more than it gains (``T + S < 2R``). So mutual cooperation is what pays
    most, and reaching it takes reading the partner: punish each lapse once, then forgive.
    (Against win-stay lose-shift, always defecting pays as much as cooperating, since the
    paper's drops have ``T + P = 2R``.)"""

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {
            "next": np.zeros(n, dtype=np.int64),
            "exploit": np.zeros(n, dtype=bool),
            "lapse": np.zeros(n, dtype=bool),
        }

    def update(
        self, state: dict[str, np.ndarray], rows: np.ndarray, theirs: np.ndarray, mine: np.ndarray, won: np.ndarray
    ) -> None:
        cooperated = theirs == 0
        passed = state["lapse"][rows] & cooperated  # its last lapse went unpunished
        exploit = (state["exploit"][rows] | passed) & cooperated  # until the other player defects
        state["lapse"][rows] = (mine == 1) & (state["next"][rows] == 0) & ~exploit
        state["exploit"][rows] = exploit
        state["next"][rows] = np.where(exploit, 1, theirs)


@dataclass
class PredictiveOpponent(Opponent):
    """The matching-pennies computer of Barraclough et al. (2004), algorithm 1 or 2 (see
    the module docstring). Counts are kept per session, over every completed trial, for
    each history length and context; the binomial tests are vectorized over sessions."""

    with_rewards: bool
    max_history: int = 4
    alpha: float = 0.05

    @cached_property
    def _tests(self) -> list[tuple[int, int]]:
        """(history length, events per step: 2 choices or 4 choice-reward pairs) tested."""
        tests = [(k, 2) for k in range(self.max_history + 1)]
        if self.with_rewards:
            tests += [(k, 4) for k in range(1, self.max_history + 1)]
        return tests

    def init(self, n: int) -> dict[str, np.ndarray]:
        state: dict[str, np.ndarray] = {
            "choices": np.zeros((n, self.max_history), dtype=np.int64),  # last choices, newest last
            "events": np.zeros((n, self.max_history), dtype=np.int64),  # last choice-reward pairs
            "seen": np.zeros(n, dtype=np.int64),
        }
        for k, base in self._tests:
            state[f"counts{k}_{base}"] = np.zeros((n, base**k, 2), dtype=np.int64)  # [first choices, trials]
        return state

    def _context(self, state: dict[str, np.ndarray], rows: np.ndarray, k: int, base: int) -> np.ndarray:
        history = state["choices" if base == 2 else "events"][rows, self.max_history - k :]
        weights = base ** np.arange(k - 1, -1, -1)
        return history @ weights if k else np.zeros(len(rows), dtype=np.int64)

    def probs(self, game: ChoiceGame, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        counts = np.stack(
            [state[f"counts{k}_{base}"][rows, self._context(state, rows, k, base)] for k, base in self._tests]
        )  # [tests, rows, (first choices, trials)]
        firsts, totals = counts[..., 0], counts[..., 1]
        p_values = _two_sided_binomial(firsts, totals)  # one call for every test: SciPy's overhead is per call
        best_p = np.ones(len(rows))
        p_first = np.full(len(rows), 0.5)
        for (k, _), first, total, p_value in zip(self._tests, firsts, totals, p_values, strict=True):
            usable = state["seen"][rows] >= k
            better = usable & (total > 0) & (p_value < np.minimum(best_p, self.alpha))
            best_p = np.where(better, p_value, best_p)
            p_first = np.where(better, first / np.maximum(total, 1), p_first)
        # the computer wins on different targets: choose target 0 when the other is predicted not to
        return np.stack([1 - p_first, p_first], axis=1)

    def update(
        self, state: dict[str, np.ndarray], rows: np.ndarray, theirs: np.ndarray, mine: np.ndarray, won: np.ndarray
    ) -> None:
        for k, base in self._tests:
            usable = state["seen"][rows] >= k
            context = self._context(state, rows, k, base)
            counts = state[f"counts{k}_{base}"]
            np.add.at(counts, (rows[usable], context[usable], 0), (theirs[usable] == 0).astype(np.int64))
            np.add.at(counts, (rows[usable], context[usable], 1), 1)
        state["choices"][rows] = np.roll(state["choices"][rows], -1, axis=1)
        state["choices"][rows, -1] = theirs
        state["events"][rows] = np.roll(state["events"][rows], -1, axis=1)
        state["events"][rows, -1] = 2 * theirs + won
        state["seen"][rows] += 1


def _two_sided_binomial(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Two-sided binomial test of a fair coin, vectorized (the null is symmetric, so the
    p-value is twice the smaller tail)."""
    low = stats.binom.cdf(successes, trials, 0.5)
    high = stats.binom.sf(successes - 1, trials, 0.5)
    return np.minimum(1.0, 2 * np.minimum(low, high))


OPPONENTS: dict[type, dict[str, Any]] = {
    MatchingPennies: {
        "random": RandomChoice,
        "algorithm1": lambda: PredictiveOpponent(with_rewards=False),
        "algorithm2": lambda: PredictiveOpponent(with_rewards=True),
    },
    PrisonersDilemma: {
        "prober": ProbingTitForTat,
        "wsls": WinStayLoseShift,
        "tit_for_tat": TitForTat,
        "always_cooperate": lambda: ConstantChoice(0),
        "always_defect": lambda: ConstantChoice(1),
        "random": RandomChoice,
    },
    JointPerceptualDecision: {"ideal": lambda: None},
}
DEFAULT_OPPONENTS: dict[type, str] = {
    MatchingPennies: "algorithm2",
    PrisonersDilemma: "wsls",
    JointPerceptualDecision: "ideal",
}
LEVEL_SESSIONS = 48  # sessions the reference players play to estimate chance and ceiling
BLIND_BIASES = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)  # the biased random players among the blind ones


@dataclass(frozen=True, eq=False)
class Versus(StepTask):
    """``task`` (a game) played in ``player_0``'s seat against ``opponent``: a one-player
    task that every single-agent consumer runs. ``session`` is the length of an
    evaluation session in trials (``session_trials``): an opponent learns over the whole session, so chance and
    ceiling are estimated for sessions of that length, and evaluation runs them."""

    task: Task
    opponent: str = ""
    session_trials: int = 500

    def __post_init__(self) -> None:
        game = self.task
        if not isinstance(game, ChoiceGame):
            raise InvalidParameterError(f"Versus plays a game against an opponent; {game.name} is not a game")
        choices = OPPONENTS[type(game)]
        object.__setattr__(self, "opponent", self.opponent or DEFAULT_OPPONENTS[type(game)])
        if self.opponent not in choices:
            raise UnknownNameError(f"opponent for {game.name}", self.opponent, choices)
        check_int("session_trials", self.session_trials, minimum=1)

    # -- identity and layout -------------------------------------------------------------
    @property
    def game(self) -> ChoiceGame:
        return self.task  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return f"{self.game.name}-vs-{self.opponent}"

    @property
    def family(self) -> str:
        return self.game.family

    @property
    def tags(self) -> tuple[str, ...]:
        return self.game.tags

    @property
    def paper(self) -> Paper | None:
        return self.game.paper

    @property
    def dt(self) -> float:  # type: ignore[override]
        return self.game.dt

    @property
    def obs_channels(self) -> Channels:
        return self.game.obs_channels

    @property
    def action_channels(self) -> Channels:
        return self.game.action_channels

    @property
    def observation_space(self) -> gym.spaces.Box:
        return self.game.observation_space

    @property
    def action_space(self) -> gym.spaces.Space:
        return self.game.action_space

    @property
    def period_names(self) -> tuple[str, ...]:
        return self.game.period_names

    @property
    def noise_std(self) -> float:
        return float(getattr(self.game, "noise", 0.0))

    def params(self) -> dict[str, Any]:
        return {"opponent": self.opponent, "session_trials": self.session_trials}

    def node(self) -> dict[str, Any]:
        version = self.spec.version if self.spec is not None else 0
        return {"id": f"Versus-v{version}", "params": self.params(), "task": self.game.node()}

    @cached_property
    def computer(self) -> Opponent | None:
        return OPPONENTS[type(self.game)][self.opponent]()

    @cached_property
    def partner(self) -> Any:
        from neurobench.tasks.partners import IdealPartner

        assert isinstance(self.game, JointPerceptualDecision)
        return IdealPartner(self.game, seat=1)

    # -- the step ------------------------------------------------------------------------
    def init(self, n: int, nature: np.random.Generator) -> State:
        state = {f"game.{k}": v for k, v in self.game.init(n, nature).items()}
        if self.computer is not None:
            state.update({f"opponent.{k}": v for k, v in self.computer.init(n).items()})
            state["plan"] = np.full(n, MISS, dtype=np.int64)
        else:
            state.update({f"opponent.{k}": v for k, v in self.partner.init(n).items()})
        return state

    @cached_property
    def _keys(self) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        """(entry of the joint state, entry of the game's or the opponent's own) names:
        splitting the state by them beats scanning its keys on every step."""
        state = self.init(0, np.random.default_rng(0))
        game = tuple((k, k.removeprefix("game.")) for k in state if k.startswith("game."))
        return game, tuple((k, k.removeprefix("opponent.")) for k in state if k.startswith("opponent."))

    def _split(self, state: State) -> tuple[State, dict[str, np.ndarray]]:
        game_keys, opponent_keys = self._keys
        return {own: state[k] for k, own in game_keys}, {own: state[k] for k, own in opponent_keys}

    def _join(self, state: State, game: State, opponent: dict[str, np.ndarray]) -> State:
        game_keys, opponent_keys = self._keys
        for k, own in game_keys:
            state[k] = game[own]
        for k, own in opponent_keys:
            state[k] = opponent[own]
        return state

    def begin(self, state: State, envs: np.ndarray, nature: np.random.Generator, play: np.random.Generator) -> State:
        game, opponent = self._split(state)
        game = self.game.begin(game, envs, nature, play)
        if self.computer is not None:
            state["plan"][envs] = MISS
            self._plan(game, opponent, state, play)
        else:
            self.partner.begin(opponent, envs)
        return self._join(state, game, opponent)

    def _plan(self, game: State, opponent: dict[str, np.ndarray], state: State, play: np.random.Generator) -> None:
        """Sessions whose choice window opens now: the opponent draws its choice."""
        assert self.computer is not None
        rows = np.flatnonzero((game["t"] == self.game.fixation_steps) & (state["plan"] == MISS))
        if len(rows):
            probs = self.computer.probs(self.game, opponent, rows)
            state["plan"][rows] = (play.random(len(rows))[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)

    def step(
        self, state: State, actions: np.ndarray, nature: np.random.Generator, play: np.random.Generator
    ) -> tuple[State, StepOutcome]:
        game, opponent = self._split(state)
        if self.computer is not None:
            submit = (game["t"] >= self.game.fixation_steps) & (game["choice"][:, 1] == MISS)
            theirs = np.where(submit, state["plan"] + 1, 0)
        else:
            seat = self.game.observe(game)[0][:, 1]
            theirs = self.partner.act(opponent, game, seat)
        game, out = self.game.step(game, np.stack([actions, theirs], axis=1), nature, play)
        rows = np.flatnonzero(out.ended)
        if self.computer is not None and len(rows):
            last = game["last_choice"][rows]
            valid = (last != MISS).all(axis=1)
            won = game["last_payoff"][rows, 0] > 0
            self.computer.update(opponent, rows[valid], last[valid, 0], last[valid, 1], won[valid].astype(np.int64))
            self._plan(game, opponent, state, play)
        elif self.computer is not None:
            self._plan(game, opponent, state, play)
        trials = {k: (v[:, 0] if v.ndim == 2 and v.shape[1] == 2 else v) for k, v in out.trials.items()}
        if self.computer is not None:
            trials["opponent_choice"] = np.where(game["choice"][:, 1] == MISS, -1, game["choice"][:, 1])
        return self._join(state, game, opponent), StepOutcome(out.reward[:, 0], out.ended, trials)

    def observe(self, state: State) -> tuple[np.ndarray, Now]:
        game, _ = self._split(state)
        obs, now = self.game.observe(game)
        target = now.target[:, 0]
        if self.computer is not None:
            planned = state["plan"] != MISS
            in_window = game["t"] >= self.game.fixation_steps
            response = self.game.best_response(np.maximum(state["plan"], 0), 0) + 1
            target = np.where(in_window & planned, response, 0)
        return obs[:, 0], Now(target, now.window[:, 0], now.step, now.period)

    # -- scores ------------------------------------------------------------------------
    def score_scale(self, success: float) -> float:
        return self.game.score_scale(success)

    def _chance(self) -> Level:
        if isinstance(self.game, MatchingPennies):
            return Level(0.5, "exact: random play, which no opponent can predict, wins half the trials")
        return self._best_of(self._blind_players(), "chance", "the best stimulus-blind player")

    def _ceiling(self) -> Level:
        from neurobench.tasks.partners import pooled_bound

        if isinstance(self.game, JointPerceptualDecision):
            scale = "; normalized on the dyad's sensitivity" if self.game.on_sensitivity else ""
            return Level(
                pooled_bound(self.game),
                f"bound: both observers' evidence pooled (sign of the summed evidence){scale}",
                "bound",
            )
        return self._best_of([self.ideal_observer()], "ceiling", "the best known reference player")

    def _blind_players(self) -> list[Agent]:
        from neurobench.agents.games import Alternate, Biased, Constant, Defer, RandomPlay

        if isinstance(self.game, JointPerceptualDecision):
            return [Defer(report=r) for r in (1, 2)]
        biased = [Biased(p) for p in BLIND_BIASES] if self.game.n_choices == 2 else []
        return [Constant(c) for c in range(1, self.game.n_choices + 1)] + [RandomPlay(), Alternate(), *biased]

    def _best_of(self, players: list[Agent], what: str, label: str) -> Level:
        """Play each reference player on ``LEVEL_SESSIONS`` sessions of ``session`` trials
        (the evaluation's protocol) and keep the best success, with its standard error."""
        from neurobench.evaluate import evaluate

        best: tuple[float, float, str] | None = None
        for player in players:
            records = evaluate(
                player, self, seed=2**31 - 2, n_trials=LEVEL_SESSIONS * self.session_trials, num_envs=LEVEL_SESSIONS
            )
            assert not isinstance(records, tuple)
            per_session = records.groupby(records["trial"] % LEVEL_SESSIONS)["score"].mean()
            value, se = float(per_session.mean()), float(per_session.std(ddof=1) / np.sqrt(len(per_session)))
            if best is None or value > best[0]:
                best = (value, se, getattr(player, "label", player.name))
        assert best is not None
        return Level(
            best[0],
            f"estimate: {label} ({best[2]}) on {LEVEL_SESSIONS} sessions of {self.session_trials} trials",
            "estimate",
            best[1],
        )

    def blind_policy(self) -> Agent:
        from neurobench.agents.games import RandomPlay

        if isinstance(self.game, MatchingPennies):
            return RandomPlay()
        chance = self.chance()
        for player in self._blind_players():
            if getattr(player, "label", player.name) in chance.method:
                return player
        return self._blind_players()[0]

    def ideal_observer(self) -> Agent:
        from neurobench.agents.games import Exploiter, Retaliator, WinStayLoseShiftPlayer
        from neurobench.tasks.partners import IdealPartnerAgent

        if isinstance(self.game, JointPerceptualDecision):
            return IdealPartnerAgent(self.game)
        if isinstance(self.game, PrisonersDilemma):
            return Retaliator() if self.opponent == "prober" else WinStayLoseShiftPlayer()
        assert self.computer is not None
        return Exploiter(OPPONENTS[type(self.game)][self.opponent])
