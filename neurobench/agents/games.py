"""Reference players of the games: the blind players that define chance, and the best
known players that define the ceilings.

They act in ``player_0``'s seat of a game against its opponent (``Versus``), from their
own observations: the choice window's ``go`` input and the feedback of the last trial
(own choice, other's choice, payoff).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neurobench.agents.base import Agent

if TYPE_CHECKING:
    from neurobench.core.task import Task


class _Chooser(Agent):
    """Chooses once per trial as the window opens (``choose``); fixates otherwise."""

    label: str = ""

    def prepare(self, task: Task) -> None:
        self.channels = task.obs_channels
        self.n_choices = task.n_actions - 1

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, Any]:
        return {
            "rng": np.random.default_rng(seed),
            "choice": np.zeros(num_envs, dtype=np.int64),
            "trial": np.zeros(num_envs, dtype=np.int64),
        }

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def act(self, obs: np.ndarray, state: dict[str, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        new = np.flatnonzero(np.asarray(info["new_trial"]))
        if len(new):
            state["choice"][new] = self.choose(obs, state, new)
            state["trial"][new] += 1
        window = np.asarray(info["window"]) > 0
        return np.where(window, state["choice"], 0), state


class RandomPlay(_Chooser):
    """Chooses uniformly at random each trial: the equilibrium of matching pennies."""

    name: ClassVar[str] = "random_play"
    label = "random play"

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        return state["rng"].integers(1, self.n_choices + 1, size=len(rows))


class Biased(_Chooser):
    """Chooses the first option with probability ``p`` and the second otherwise, at random
    each trial: blind to the partner, yet a mostly-cooperating player's random defections
    can end a partner's exploitation, so the best blind player may be biased."""

    name: ClassVar[str] = "biased_play"

    def __init__(self, p: float) -> None:
        self.p = p
        self.label = f"first choice with probability {p:g}"

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        return np.where(state["rng"].random(len(rows)) < self.p, 1, 2)


class Constant(_Chooser):
    """The same choice every trial (action ``choice``)."""

    name: ClassVar[str] = "constant_choice"

    def __init__(self, choice: int) -> None:
        self.choice = choice
        self.label = f"always choice {choice}"

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        return np.full(len(rows), self.choice)


class Alternate(_Chooser):
    """Alternates between the first two choices, trial by trial (blind to the partner)."""

    name: ClassVar[str] = "alternate"
    label = "alternating choices"

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        return 1 + state["trial"][rows] % 2


def _feedback(channels: Any, obs: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(own choice, other's choice, payoff) of the last trial, -1 where none was made."""
    own, other = obs[rows][:, channels["own"]], obs[rows][:, channels["other"]]
    mine = np.where(own.any(axis=1), own.argmax(axis=1), -1)
    theirs = np.where(other.any(axis=1), other.argmax(axis=1), -1)
    return mine, theirs, obs[rows, channels["payoff"].start]


class WinStayLoseShiftPlayer(_Chooser):
    """Cooperates first; then repeats its choice after the reward or the temptation payoff
    and switches after the others (Nowak & Sigmund 1993), without execution errors: the
    best known partner of a win-stay lose-shift player that errs."""

    name: ClassVar[str] = "wsls_player"
    label = "win-stay lose-shift"

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        from neurobench.tasks.games import PrisonersDilemma

        mine, _, payoff = _feedback(self.channels, obs, rows)
        stay = payoff >= PrisonersDilemma.DROPS[0, 0, 0]
        choice = np.where(stay, mine, 1 - mine)
        return np.where(mine < 0, 0, choice) + 1


class Retaliator(_Chooser):
    """Cooperates, and defects once after each unprovoked defection of the other player
    (one not answering its own defection the trial before), then forgives: the best known
    partner of a tit-for-tat that takes unpunished lapses as licence to exploit."""

    name: ClassVar[str] = "retaliator"
    label = "retaliate once per unprovoked defection"

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, Any]:
        state = super().initial_state(num_envs, seed=seed)
        state["before"] = np.zeros(num_envs, dtype=np.int64)  # its own choice two trials back
        return state

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        mine, theirs, _ = _feedback(self.channels, obs, rows)
        unprovoked = (theirs == 1) & (state["before"][rows] == 0)
        known = mine >= 0
        state["before"][rows[known]] = mine[known]
        return np.where(unprovoked, 1, 0) + 1


class Exploiter(_Chooser):
    """Exploits a known opponent: keeps a copy of the opponent's statistics from the
    feedback of every trial and picks the best response to the opponent's current mixed
    strategy; while the opponent plays 50/50 it always picks the first target, building the
    bias the opponent will react to (it then wins more often than half, against Barraclough
    et al.'s algorithms)."""

    name: ClassVar[str] = "exploiter"
    label = "exploiter of the opponent's algorithm"

    def __init__(self, opponent: Callable[[], Any]) -> None:
        self.make_opponent = opponent

    def prepare(self, task: Task) -> None:
        super().prepare(task)
        self.game = task.game  # type: ignore[attr-defined]
        self.opponent = self.make_opponent()

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, Any]:
        state = super().initial_state(num_envs, seed=seed)
        state["mirror"] = self.opponent.init(num_envs)
        return state

    def choose(self, obs: np.ndarray, state: dict[str, Any], rows: np.ndarray) -> np.ndarray:
        mine, theirs, payoff = _feedback(self.channels, obs, rows)
        valid = (mine >= 0) & (theirs >= 0)
        self.opponent.update(
            state["mirror"], rows[valid], mine[valid], theirs[valid], (payoff[valid] > 0).astype(np.int64)
        )
        probs = self.opponent.probs(self.game, state["mirror"], rows)
        even = np.isclose(probs[:, 0], probs[:, 1])
        return np.where(even, 0, probs.argmax(axis=1)) + 1


class Defer(Agent):
    """A stimulus-blind member of the joint decision: reports ``report`` (action 1 or 2,
    a left report of low or high confidence) and then gives the dyad the partner's
    reported choice."""

    name: ClassVar[str] = "defer"

    def __init__(self, report: int) -> None:
        self.report = report
        self.label = f"deferring to the partner (reporting action {report})"

    def prepare(self, task: Task) -> None:
        self.channels = task.obs_channels
        self.joint_start = task.game._joint_start  # type: ignore[attr-defined]

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        shown = obs[:, self.channels["report"]]
        partner_choice = np.where(shown.any(axis=1), shown.argmax(axis=1) // 2, 0)
        window = np.asarray(info["window"]) > 0
        joint = np.asarray(info["step"]) >= self.joint_start
        return np.where(window, np.where(joint, 2 * partner_choice + 1, self.report), 0), state
