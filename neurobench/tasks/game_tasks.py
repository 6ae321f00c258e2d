"""Games as benchmark tasks: the agent plays ``player_0`` against a reference opponent.

A ``GameTask`` gives a game what the harness needs of a task: spaces, a success
criterion per trial, chance and ceiling, and an evaluation path (``evaluate_game``) with
the same record columns as single-agent tasks, so suites, scoring and result tables work
unchanged. Success, chance and ceiling per game:

* MatchingPennies: success is winning a trial. Against the predictive opponents the best
  any player can do is play the equilibrium (random choices): ceiling 0.5. Uniform
  guessing *is* that equilibrium, so chance is instead an exploitable player's success,
  one who always picks the same target (measured against the opponent).
* PrisonersDilemma: success is mutual cooperation; chance is a uniform guesser's rate
  and the ceiling a player who always cooperates (both measured against the partner).
* JointPerceptualDecision: success is both players being right. Both see the same
  coherence, so their errors are correlated: with the ideal partner the ceiling is the
  mean over coherences of the squared ideal-observer accuracy at that coherence (not the
  square of the mean accuracy, which understates it by the variance across coherences).
  The ideal observer of one's own view is also the best player of the joint task: under
  this symmetric design its evidence's sign decides every weighting of the partner's
  accuracy. Chance is a guesser's 0.5 times the partner's mean accuracy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pandas as pd

from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.task import Ceiling, env_id
from neurobench.tasks.games import FAMILY, GAMES, VERSION, JointPerceptualDecision, make_game
from neurobench.tasks.opponents import OPPONENTS, VersusOpponent

DEFAULT_OPPONENTS = {
    "MatchingPennies": "algorithm2",
    "PrisonersDilemma": "tit_for_tat",
    "JointPerceptualDecision": "ideal",
}
_CALIBRATION_TRIALS = 1500  # trials of scripted play that measure chance and ceilings


@dataclass(frozen=True, eq=False)
class GameTask:
    """``game`` (with its ``settings``: dt, timing, trials...) played as ``player_0``
    against ``opponent`` (by default the paper's)."""

    game: str
    opponent: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    family: ClassVar[str] = FAMILY
    version: ClassVar[int] = VERSION

    def __post_init__(self) -> None:
        if self.game not in GAMES:
            raise UnknownNameError("game", self.game, GAMES)
        object.__setattr__(self, "opponent", self.opponent or DEFAULT_OPPONENTS[self.game])
        if self.opponent not in OPPONENTS[self.game]:
            raise UnknownNameError(f"opponent for {self.game}", self.opponent, OPPONENTS[self.game])
        make_game(self.game, **self.settings)  # bad game parameters fail here
        if self.ceiling().value <= self.chance:
            raise InvalidParameterError(
                f"{self.game} against {self.opponent!r} cannot be scored: no strategy beats chance "
                f"({self.chance:.3f}); use one of {sorted(OPPONENTS[self.game])} with room above chance"
            )

    @property
    def name(self) -> str:
        return self.game

    @property
    def id(self) -> str:
        return env_id(self.game, self.version)

    @cached_property
    def paper(self) -> Any:
        return GAMES[self.game].paper

    def env(self, trials_per_episode: int = 100) -> VersusOpponent:
        return _versus(self.game, self.opponent, self.settings, trials_per_episode)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return self.env().observation_space

    @cached_property
    def action_space(self) -> gym.spaces.Discrete:
        return self.env().action_space

    @property
    def answers(self) -> tuple[int, ...]:
        return tuple(range(1, int(self.action_space.n)))

    @property
    def noise_std(self) -> float:
        game = make_game(self.game, **self.settings)
        return float(getattr(game, "noise", 0.0))

    def params(self) -> dict[str, Any]:
        return {"opponent": self.opponent, **dict(self.settings)}

    @property
    def chance(self) -> float:
        return _calibrated(self.game, self.opponent, json.dumps(dict(self.settings), sort_keys=True))[0]

    def ceiling(self) -> Ceiling:
        value, method = _calibrated(self.game, self.opponent, json.dumps(dict(self.settings), sort_keys=True))[1:]
        return Ceiling(value, method)


@cache
def _calibrated(game: str, opponent: str, params_json: str) -> tuple[float, float, str]:
    """(chance, ceiling, how) of a game against an opponent; see the module docstring."""
    params = json.loads(params_json)

    def success(policy: Callable[[int, int], int]) -> float:
        env = _versus(game, opponent, params, _CALIBRATION_TRIALS + 1)
        return float(np.mean(_play(env, policy, _CALIBRATION_TRIALS, seed=0)["outcome"] == "correct"))

    if game == "MatchingPennies":
        return success(lambda _trial, _target: 1), 0.5, "equilibrium (random play): no strategy does better"
    if game == "PrisonersDilemma":
        rng = np.random.default_rng(0)
        guess = success(lambda _trial, _target: int(rng.integers(1, 3)))
        return guess, success(lambda _trial, _target: 1), "measured: always cooperating against the partner"
    accuracy = _ideal_accuracy_by_coherence(params)
    partner = accuracy if opponent == "ideal" else np.full_like(accuracy, 0.5)
    return (
        float(0.5 * partner.mean()),
        float(np.mean(accuracy * partner)),
        "exact: mean over coherences of the ideal observer's accuracy times the partner's",
    )


def _ideal_accuracy_by_coherence(params: Mapping[str, Any]) -> np.ndarray:
    """An ideal observer's accuracy at each of the joint decision's coherences: that of a
    2-choice PerceptualDecisionMaking showing one coherence for the fixation period."""
    from neurobench.core.registry import make_task

    game = make_game("JointPerceptualDecision", **params)
    assert isinstance(game, JointPerceptualDecision)
    timing = {"fixation": 0, "stimulus": game.fixation_steps * game.dt, "delay": 0, "decision": game.dt}
    return np.array(
        [
            make_task("PerceptualDecisionMaking", dt=game.dt, cohs=(coh,), sigma=game.sigma, timing=timing)
            .ceiling()
            .value
            for coh in game.cohs
        ]
    )


def _versus(game: str, opponent: str, params: Mapping[str, Any], trials: int) -> VersusOpponent:
    return VersusOpponent(make_game(game, **{**params, "trials_per_episode": trials}), opponent)


def _play(env: VersusOpponent, policy: Callable[[int, int], int], trials: int, seed: int) -> pd.DataFrame:
    _, info = env.reset(seed=seed)
    rows: list[dict[str, Any]] = []
    while len(rows) < trials:
        action = policy(len(rows), info["target"]) if info["window"] else 0
        _, _, _, _, info = env.step(action)
        if info["new_trial"]:
            rows.append(info["trial"])
    return pd.DataFrame(rows)


def evaluate_game(
    agent: Any,
    task: GameTask,
    *,
    seed: int,
    n_trials: int,
    num_envs: int = 64,
    on_trials: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """The agent, as player_0, against the task's opponent: the same record columns as
    :func:`neurobench.evaluate.evaluate`. Each of ``num_envs`` sessions plays its share
    of the trials; session ``i`` is seeded from (``seed``, ``i``)."""
    envs_count = max(1, min(num_envs, n_trials))
    per_env = -(-n_trials // envs_count)
    envs = [task.env(per_env + 1) for _ in range(envs_count)]
    seeds = np.random.SeedSequence(seed).generate_state(envs_count)
    starts = [env.reset(seed=int(s)) for env, s in zip(envs, seeds, strict=True)]
    obs = np.stack([o for o, _ in starts])
    infos = [i for _, i in starts]
    state = agent.initial_state(envs_count, seed=seed)
    new_trial = np.ones(envs_count, dtype=bool)
    rows: list[list[dict[str, Any]]] = [[] for _ in envs]
    while min(len(r) for r in rows) < per_env:
        view = {
            "target": np.array([i["target"] for i in infos]),
            "window": np.array([i["window"] for i in infos]),
            "step": np.zeros(envs_count, dtype=int),
            "new_trial": new_trial,
        }
        actions, state = agent.act(obs, state, view)
        for e, (env, action) in enumerate(zip(envs, np.asarray(actions), strict=True)):
            if len(rows[e]) == per_env:
                continue  # this session has played its share
            obs[e], _, _, _, infos[e] = env.step(action)
            new_trial[e] = infos[e]["new_trial"]
            if new_trial[e] and len(rows[e]) < per_env:
                rows[e].append(infos[e]["trial"])
                if on_trials is not None:
                    on_trials(1)
    records = [{**row, "trial": e * per_env + row["index"]} for e, env_rows in enumerate(rows) for row in env_rows]
    frame = pd.DataFrame(records).sort_values("trial", ignore_index=True).head(n_trials)
    frame = frame.rename(columns={"payoff": "reward"}).drop(columns=["index"])
    frame["response"] = np.where(frame["choice"] >= 0, frame["choice"] + 1, -1)
    return frame[
        [
            "trial",
            "outcome",
            "reward",
            "response",
            *[c for c in frame.columns if c not in ("trial", "outcome", "reward", "response")],
        ]
    ]
