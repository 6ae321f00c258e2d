"""Games: two players, trials on a clock, stepped for all environments at once.

A game is a closed-loop task for two players (``players = 2``): actions ``[n, 2]``,
observations and rewards with a player axis. PettingZoo's parallel API is a view of it
(``neurobench.multi``); ``Versus`` (``neurobench.tasks.opponents``) makes it a one-player
task against a reference opponent, which every single-agent consumer runs.

Each trial is a fixation period (``fixation`` input on), then a choice window (``go`` on)
in which each player's first non-fixation action is its choice; the trial is resolved and
paid when both have chosen or the window closes. A player that does not choose *misses*:
the trial is void (both get ``miss_reward``) and is left out of what opponents learn
from. Each player also sees the last trial: its own choice, the other's (one-hot) and its
payoff, the feedback the animals got in the papers.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.checks import check_number, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import Outcome
from neurobench.core.step import Now, State, StepOutcome, StepTask
from neurobench.core.task import Level, Paper
from neurobench.core.timing import to_steps
from neurobench.core.trials import NOISE_CLIP

FAMILY = "multiagent"
MISS = -1  # no choice in the window
SENSITIVITY_VERSION = 2  # the joint decision's first version scored on the dyad's sensitivity


@dataclass(frozen=True, kw_only=True, eq=False)
class ChoiceGame(StepTask):
    """Two players choose once per trial among ``n_choices`` options (see the module)."""

    dt: float = 100.0
    fixation: float = 500.0
    choice: float = 500.0
    miss_reward: float = 0.0

    n_choices: ClassVar[int] = 2
    choice_names: ClassVar[tuple[str, ...]] = ("choice0", "choice1")

    def __post_init__(self) -> None:
        check_number("dt", self.dt, minimum=1e-9)
        check_number("fixation", self.fixation, minimum=0)
        check_number("choice", self.choice, minimum=0)
        check_number("miss_reward", self.miss_reward)
        if self.choice_steps < 1:
            raise InvalidParameterError(
                f"the choice window of {self.name} ({self.choice:g} ms) must last at least one step of dt={self.dt:g}"
            )
        self.validate()

    def validate(self) -> None:
        """Game-specific parameter checks."""

    # -- what games define -----------------------------------------------------------
    @abstractmethod
    def payoffs(self, choices: np.ndarray, state: State, rows: np.ndarray) -> np.ndarray:
        """Rewards ``[m, 2]`` of both players for valid ``choices`` ``[m, 2]`` (from 0)."""

    @abstractmethod
    def succeeded(self, choices: np.ndarray, payoffs: np.ndarray) -> np.ndarray:
        """Whether a resolved trial counts as a success for each player ``[m, 2]``."""

    @abstractmethod
    def best_response(self, other: np.ndarray, player: int) -> np.ndarray:
        """The choice meeting ``player``'s success criterion against ``other``'s choice."""

    # -- layout ------------------------------------------------------------------------
    @property
    def players(self) -> int:
        return 2

    @cached_property
    def fixation_steps(self) -> int:
        return int(to_steps(self.fixation, self.dt))

    @cached_property
    def choice_steps(self) -> int:
        return int(to_steps(self.choice, self.dt))

    @property
    def period_names(self) -> tuple[str, ...]:
        return ("fixation", "choice")

    def extra_inputs(self) -> dict[str, int]:
        """Inputs besides fixation, go and feedback (e.g. a stimulus)."""
        return {}

    @cached_property
    def obs_channels(self) -> Channels:
        k = self.n_choices
        return Channels(fixation=1, go=1, **self.extra_inputs(), own=k, other=k, payoff=1)

    @cached_property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, **dict.fromkeys(self.choice_names, 1))

    def payoff_range(self) -> tuple[float, float]:
        grid = np.array([(a, b) for a in range(self.n_choices) for b in range(self.n_choices)])
        values = self.payoffs(grid, {}, np.zeros(len(grid), dtype=np.int64))
        return float(min(values.min(), self.miss_reward, 0.0)), float(max(values.max(), self.miss_reward))

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        low = np.zeros(self.obs_channels.size, np.float32)
        high = np.ones(self.obs_channels.size, np.float32)
        low[self.obs_channels["payoff"]], high[self.obs_channels["payoff"]] = self.payoff_range()
        return gym.spaces.Box(low, high, dtype=np.float32)

    @cached_property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.n_choices + 1)  # 0: fixate, 1..: choices

    # -- the step ------------------------------------------------------------------------
    def init(self, n: int, nature: np.random.Generator) -> State:
        return {
            "t": np.zeros(n, dtype=np.int64),
            "choice": np.full((n, 2), MISS, dtype=np.int64),
            "last_choice": np.full((n, 2), MISS, dtype=np.int64),
            "last_payoff": np.zeros((n, 2)),
        }

    def begin(self, state: State, envs: np.ndarray, nature: np.random.Generator, play: np.random.Generator) -> State:
        state["t"][envs] = 0
        state["choice"][envs] = MISS
        return state

    def step(
        self, state: State, actions: np.ndarray, nature: np.random.Generator, play: np.random.Generator
    ) -> tuple[State, StepOutcome]:
        t, choice = state["t"], state["choice"]
        in_window = t >= self.fixation_steps
        first = in_window[:, None] & (choice == MISS) & (actions > 0)
        choice = np.where(first, actions - 1, choice)
        t = t + 1
        resolve = in_window & ((choice != MISS).all(axis=1) | (t >= self.fixation_steps + self.choice_steps))
        reward = np.zeros((len(t), 2))
        outcome = np.zeros((len(t), 2), dtype=np.int8)
        rows = np.flatnonzero(resolve)
        if len(rows):
            chosen = choice[rows]
            valid = (chosen != MISS).all(axis=1)
            pay = np.full((len(rows), 2), self.miss_reward)
            if valid.any():
                pay[valid] = self.payoffs(chosen[valid], state, rows[valid])
            won = np.zeros((len(rows), 2), dtype=bool)
            if valid.any():
                won[valid] = self.succeeded(chosen[valid], pay[valid])
            code = np.where(won, Outcome.CORRECT, Outcome.FAIL)
            code = np.where((chosen == MISS) | ~valid[:, None], Outcome.MISS, code)
            reward[rows], outcome[rows] = pay, code
            state["last_choice"][rows] = np.where(valid[:, None], chosen, MISS)
            state["last_payoff"][rows] = pay
        state["t"], state["choice"] = t, choice
        return state, StepOutcome(reward, resolve, self._records(rows, outcome, reward, state))

    def _records(
        self, rows: np.ndarray, outcome: np.ndarray, reward: np.ndarray, state: State
    ) -> dict[str, np.ndarray]:
        """The step's trial records, built only when a trial ended (``rows``): the engine
        reads them nowhere else."""
        if not len(rows):
            return {}
        return {
            "outcome": outcome,
            "score": (outcome == Outcome.CORRECT).astype(np.float64),
            "reward": reward.copy(),
            "response": np.where(state["choice"] == MISS, -1, state["choice"] + 1),
            **self.conditions(state),
        }

    def conditions(self, state: State) -> dict[str, np.ndarray]:
        """What the records hold of each environment's current trial beyond its outcome,
        score, reward and response: hidden variables, a game's other reports."""
        return {}

    def observe(self, state: State) -> tuple[np.ndarray, Now]:
        t = state["t"]
        n = len(t)
        c = self.obs_channels
        go = t >= self.fixation_steps
        obs = np.zeros((n, 2, c.size), dtype=np.float32)
        obs[:, :, c["fixation"].start] = ~go[:, None]
        obs[:, :, c["go"].start] = go[:, None]
        last = state["last_choice"]
        for who in (0, 1):  # a choice is its maker's own and the other player's other
            rows = np.flatnonzero(last[:, who] != MISS)
            made = last[rows, who]
            obs[rows, who, c["own"].start + made] = 1.0
            obs[rows, 1 - who, c["other"].start + made] = 1.0
        obs[:, :, c["payoff"].start] = state["last_payoff"]
        self.paint_extra(state, obs)
        closing = t == self.fixation_steps + self.choice_steps - 1
        window = np.where(go, np.where(closing, 2, 1), 0).astype(np.int8)
        target = np.zeros((n, 2), dtype=np.int64)
        for player in (0, 1):
            other = state["choice"][:, 1 - player]
            known = np.flatnonzero(go & (other != MISS))
            if len(known):
                target[known, player] = self.best_response(other[known], player) + 1
        return obs, Now(target, np.repeat(window[:, None], 2, axis=1), t.copy(), go.astype(np.int16))

    def paint_extra(self, state: State, obs: np.ndarray) -> None:
        """Write the extra inputs into ``obs`` ``[n, 2, D]``."""

    def _chance(self) -> Level:
        raise InvalidParameterError(f"{self.name} is played by two agents: score it against an opponent (Versus)")

    def _ceiling(self) -> Level:
        raise InvalidParameterError(f"{self.name} is played by two agents: score it against an opponent (Versus)")


@dataclass(frozen=True, kw_only=True, eq=False)
class MatchingPennies(ChoiceGame):
    """Repeated matching pennies (Barraclough, Conroy & Lee 2004): ``player_0`` (the
    monkey's seat) wins a reward of 1 when both choose the same target, ``player_1`` (the
    computer's) when they differ. The equilibrium is to choose at random; the paper's
    computer opponents punish any predictability (``neurobench.tasks.opponents``)."""

    choice_names: ClassVar[tuple[str, ...]] = ("left", "right")

    def payoffs(self, choices: np.ndarray, state: State, rows: np.ndarray) -> np.ndarray:
        same = (choices[:, 0] == choices[:, 1]).astype(np.float64)
        return np.stack([same, 1 - same], axis=1)

    def succeeded(self, choices: np.ndarray, payoffs: np.ndarray) -> np.ndarray:
        return payoffs > 0

    def best_response(self, other: np.ndarray, player: int) -> np.ndarray:
        return other if player == 0 else 1 - other


@dataclass(frozen=True, kw_only=True, eq=False)
class PrisonersDilemma(ChoiceGame):
    """The iterated prisoner's dilemma of Haroush & Williams (2015): two monkeys each
    choose to cooperate (choice 0) or defect (choice 1), then see both choices and hear
    the other's juice. Payoffs are the paper's juice drops: both cooperate 4 each, both
    defect 2 each, a defector facing a cooperator 6 and the cooperator 1 (T > R > P > S and
    2R > T + S). Success is mutual cooperation, the outcome the paper studied."""

    choice_names: ClassVar[tuple[str, ...]] = ("cooperate", "defect")
    DROPS: ClassVar[np.ndarray] = np.array([[[4.0, 4.0], [1.0, 6.0]], [[6.0, 1.0], [2.0, 2.0]]])

    def payoffs(self, choices: np.ndarray, state: State, rows: np.ndarray) -> np.ndarray:
        return self.DROPS[choices[:, 0], choices[:, 1]]

    def succeeded(self, choices: np.ndarray, payoffs: np.ndarray) -> np.ndarray:
        mutual = (choices == 0).all(axis=1)
        return np.repeat(mutual[:, None], 2, axis=1)

    def best_response(self, other: np.ndarray, player: int) -> np.ndarray:
        return np.zeros_like(other)  # success is mutual cooperation: cooperate


@dataclass(frozen=True, kw_only=True, eq=False)
class JointPerceptualDecision(ChoiceGame):
    """Two observers decide together about one stimulus (Bahrami et al. 2010).

    Both see the same motion stimulus, each through its own noise (``stimulus`` inputs as
    in PerceptualDecisionMaking: ``0.5 +- coh/200`` plus noise of std ``sigma/sqrt(dt)``),
    during the fixation period. In a first window each reports its own decision with a
    confidence (actions ``left-low``, ``left-high``, ``right-low``, ``right-high``); both
    reports are then shown to both (``report`` inputs: the partner's, one-hot) during
    ``reveal``, and in a second window each gives the dyad's answer (left or right; the
    confidence part of the action is ignored there). The joint decision is the answer
    both give; when they disagree it is the answer of the more confident report (a coin
    flip when equally confident). Both are paid 1 when the joint decision is right.

    This is the paper's setting with communication reduced to what an agent can send: a
    choice and a binary confidence. Chance is the accuracy of the partner alone (an agent
    that ignores the stimulus and defers to its partner reaches it); the ceiling bound is
    the optimal pooling of both observers' evidence, as if all of it were shared.

    Scores are normalized on the dyad's sensitivity (from version 2), as
    Bahrami et al. compare dyads with their members: success is mapped to the slope ``k``
    of a psychometric curve ``P(correct | coh) = Phi(k mu_coh / s)`` over the task's
    coherences (one ideal observer alone has ``k = 1``, pooled evidence ``k = sqrt 2``).
    In accuracy the whole range from deferring to pooling is under 4 points, so random
    play would read -4; on sensitivity it reads about -1, as on the other tasks.
    Version 1 (the same trials) normalizes success itself.
    """

    cohs: tuple[float, ...] = (0.0, 3.2, 6.4, 12.8, 25.6, 51.2)
    sigma: float = 1.0
    fixation: float = 1000.0
    reveal: float = 300.0

    choice_names: ClassVar[tuple[str, ...]] = ("left_low", "left_high", "right_low", "right_high")
    n_choices: ClassVar[int] = 4

    def validate(self) -> None:
        check_values("cohs", self.cohs, minimum=0)
        check_number("sigma", self.sigma, minimum=0)
        check_number("reveal", self.reveal, minimum=0)

    @property
    def on_sensitivity(self) -> bool:
        """Whether scores are normalized on the dyad's sensitivity (version 2 on)."""
        return self.version >= SENSITIVITY_VERSION

    def score_scale(self, success: float) -> float:
        if not self.on_sensitivity:
            return success
        from neurobench.tasks.partners import dyad_sensitivity

        return dyad_sensitivity(self, success)

    @property
    def period_names(self) -> tuple[str, ...]:
        return ("stimulus", "report", "reveal", "joint")

    @cached_property
    def reveal_steps(self) -> int:
        return int(to_steps(self.reveal, self.dt))

    @cached_property
    def noise(self) -> float:
        return self.sigma / float(np.sqrt(self.dt))

    @cached_property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, go=1, stimulus=2, report=4, joint_go=1, own=2, other=2, payoff=1)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        c = self.obs_channels
        low, high = np.zeros(c.size, np.float32), np.ones(c.size, np.float32)
        swing = max(self.cohs) / 200 + NOISE_CLIP * self.noise
        low[c["stimulus"]], high[c["stimulus"]] = 0.5 - swing, 0.5 + swing
        return gym.spaces.Box(low, high, dtype=np.float32)

    def payoffs(self, choices: np.ndarray, state: State, rows: np.ndarray) -> np.ndarray:
        return np.repeat((choices[:, :1] == state["truth"][rows, None]).astype(np.float64), 2, axis=1)

    def payoff_range(self) -> tuple[float, float]:
        return 0.0, 1.0

    def succeeded(self, choices: np.ndarray, payoffs: np.ndarray) -> np.ndarray:
        return payoffs > 0

    def best_response(self, other: np.ndarray, player: int) -> np.ndarray:
        raise NotImplementedError  # targets come from the truth (see observe)

    @property
    def _window_start(self) -> int:
        return self.fixation_steps

    @property
    def _joint_start(self) -> int:
        return self.fixation_steps + self.choice_steps + self.reveal_steps

    @property
    def _length(self) -> int:
        return self._joint_start + self.choice_steps

    def init(self, n: int, nature: np.random.Generator) -> State:
        state = super().init(n, nature)
        state.update(
            truth=np.zeros(n, dtype=np.int64),
            coh=np.zeros(n),
            report=np.full((n, 2), MISS, dtype=np.int64),
            noise=np.zeros((n, 2, self.fixation_steps, 2), dtype=np.float32),
        )
        return state

    def begin(self, state: State, envs: np.ndarray, nature: np.random.Generator, play: np.random.Generator) -> State:
        state = super().begin(state, envs, nature, play)
        m = len(envs)
        state["truth"][envs] = nature.integers(2, size=m)
        state["coh"][envs] = np.asarray(self.cohs)[nature.integers(len(self.cohs), size=m)]
        state["report"][envs] = MISS
        draws = nature.standard_normal((m, 2, self.fixation_steps, 2), dtype=np.float32)
        state["noise"][envs] = np.clip(draws, -NOISE_CLIP, NOISE_CLIP) * np.float32(self.noise)
        return state

    def step(
        self, state: State, actions: np.ndarray, nature: np.random.Generator, play: np.random.Generator
    ) -> tuple[State, StepOutcome]:
        t = state["t"]
        n = len(t)
        reporting = (t >= self._window_start) & (t < self._window_start + self.choice_steps)
        joint = t >= self._joint_start
        report = np.where(reporting[:, None] & (state["report"] == MISS) & (actions > 0), actions - 1, state["report"])
        answer = (actions - 1) // 2  # the choice part of an action: 0 left, 1 right
        choice = np.where(joint[:, None] & (state["choice"] == MISS) & (actions > 0), answer, state["choice"])
        t = t + 1
        resolve = joint & ((choice != MISS).all(axis=1) | (t >= self._length))
        reward = np.zeros((n, 2))
        outcome = np.zeros((n, 2), dtype=np.int8)
        rows = np.flatnonzero(resolve)
        if len(rows):
            chosen, reported = choice[rows], report[rows]
            valid = (chosen != MISS).all(axis=1)
            confidence = np.where(reported == MISS, -1, reported % 2)
            coin = play.integers(2, size=len(rows))
            leader = np.where(
                confidence[:, 0] > confidence[:, 1], 0, np.where(confidence[:, 1] > confidence[:, 0], 1, coin)
            )
            decision = np.where(chosen[:, 0] == chosen[:, 1], chosen[:, 0], chosen[np.arange(len(rows)), leader])
            right = (decision == state["truth"][rows]).astype(np.float64)
            pay = np.where(valid[:, None], right[:, None], self.miss_reward).repeat(2, axis=1)
            code = np.where(pay > 0, Outcome.CORRECT, Outcome.FAIL)
            code = np.where((chosen == MISS) | ~valid[:, None], Outcome.MISS, code)
            reward[rows], outcome[rows] = pay, code
            state["last_choice"][rows] = np.where(valid[:, None], decision[:, None], MISS).repeat(2, axis=1)
            state["last_payoff"][rows] = pay
        state["t"], state["choice"], state["report"] = t, choice, report
        return state, StepOutcome(reward, resolve, self._records(rows, outcome, reward, state))

    def conditions(self, state: State) -> dict[str, np.ndarray]:
        return {
            "report": np.where(state["report"] == MISS, -1, state["report"] + 1),
            "ground_truth": state["truth"].copy(),
            "coh": state["coh"].copy(),
        }

    def observe(self, state: State) -> tuple[np.ndarray, Now]:
        t = state["t"]
        n = len(t)
        c = self.obs_channels
        obs = np.zeros((n, 2, c.size), dtype=np.float32)
        seeing = t < self.fixation_steps
        reporting = (t >= self._window_start) & (t < self._window_start + self.choice_steps)
        revealing = (t >= self._window_start + self.choice_steps) & (t < self._joint_start)
        joint = t >= self._joint_start
        obs[:, :, c["fixation"].start] = seeing[:, None]
        obs[:, :, c["go"].start] = reporting[:, None]
        obs[:, :, c["joint_go"].start] = joint[:, None]
        envs = np.flatnonzero(seeing)
        if len(envs):
            truth = state["truth"][envs]
            sign = np.where(np.arange(2)[None, :] == truth[:, None], 1.0, -1.0)
            clean = (0.5 + sign * state["coh"][envs, None] / 200).astype(np.float32)  # [m, 2 units]
            stimulus = clean[:, None, :] + state["noise"][envs, :, t[envs], :]
            obs[envs, :, c["stimulus"].start : c["stimulus"].stop] = stimulus
        shown = revealing | joint
        if shown.any():
            for player in (0, 1):
                partner = state["report"][:, 1 - player]
                rows = np.flatnonzero(shown & (partner != MISS))
                obs[rows, player, c["report"].start + partner[rows]] = 1.0
        last = state["last_choice"]
        made = np.flatnonzero(last[:, 0] != MISS)
        obs[made, :, c["own"].start + last[made, 0]] = 1.0
        obs[made, :, c["other"].start + last[made, 1]] = 1.0
        obs[:, :, c["payoff"].start] = state["last_payoff"]
        report_end = self._window_start + self.choice_steps - 1
        closing = (t == report_end) | (t == self._length - 1)
        responding = reporting | joint
        window = responding.astype(np.int8) + (closing & responding)  # 1 open, 2 closing
        truth_action = np.where(reporting, 2 * state["truth"] + 2, np.where(joint, 2 * state["truth"] + 1, 0))
        # periods in order (stimulus, report, reveal, joint): how many boundaries t has passed
        period = (
            (t >= self._window_start).astype(np.int16)
            + (t >= self._window_start + self.choice_steps)
            + (t >= self._joint_start)
        )
        target = np.repeat(truth_action[:, None], 2, axis=1)
        return obs, Now(target, np.repeat(window[:, None], 2, axis=1), t.copy(), period)


SPECS = [
    TaskSpec(
        "MatchingPennies",
        1,
        MatchingPennies,
        {},
        FAMILY,
        ("multi-agent", "game", "mixed strategy"),
        Paper(
            "Barraclough, Conroy & Lee (2004)",
            "Prefrontal cortex and decision making in a mixed-strategy game",
            "https://www.nature.com/articles/nn1209",
        ),
        deviations=(
            "Opponents condition on the whole session (NeuroGym's contrib MatchingPenny, unregistered, plays a "
            "random coin or against a running mean of the agent's choices); algorithm 2 pools algorithm 1's "
            "tests as the lab's code does; a miss teaches an opponent nothing.",
        ),
    ),
    TaskSpec(
        "PrisonersDilemma",
        1,
        PrisonersDilemma,
        {},
        FAMILY,
        ("multi-agent", "game", "cooperation"),
        Paper(
            "Haroush & Williams (2015)",
            "Neuronal prediction of opponent's behavior during cooperative social interchange in primates",
            "https://www.cell.com/cell/fulltext/S0092-8674(15)00123-3",
        ),
        deviations=(
            "Payoffs are the paper's juice drops (4/1/6/2); the reference opponents are NeuroBench's (the "
            "paper's monkeys played each other).",
        ),
    ),
    *(
        TaskSpec(
            "JointPerceptualDecision",
            version,
            JointPerceptualDecision,
            {},
            FAMILY,
            ("multi-agent", "game", "perceptual", "confidence", "cooperation"),
            Paper(
                "Bahrami et al. (2010)",
                "Optimally interacting minds",
                "https://www.science.org/doi/10.1126/science.1185718",
            ),
            deviations=(
                "Two observers with their own noise report a choice and a confidence, see each other's, and decide "
                "jointly, as in Bahrami et al. (NeuroGym has no such task).",
            ),
        )
        for version in (1, SENSITIVITY_VERSION)  # the same trials; version 2 scores on sensitivity
    ),
]
