"""The joint perceptual decision's observers: what an ideal member of a dyad does.

Each observer's sufficient statistic is its summed evidence ``z`` (right unit minus left
unit over the stimulus), Gaussian with mean ``+-mu_c`` (``mu_c = N coh / 100`` over ``N``
steps) and std ``s = sigma_step sqrt(2N)``. An ideal member reports the sign of ``z`` and
whether ``|z|`` exceeds the median (its confidence), then gives the dyad the answer with
the larger posterior given its own ``z`` and the partner's report, the report's
likelihood computed exactly for an ideal reporter (Bahrami et al.'s weighted
confidence sharing, with a binary confidence).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import optimize, stats

from neurobench.agents.base import Agent
from neurobench.core.step import State
from neurobench.tasks.games import JointPerceptualDecision


class JointObserver:
    """The ideal member's statistics for one game (see the module docstring)."""

    def __init__(self, game: JointPerceptualDecision) -> None:
        self.game = game
        steps = game.fixation_steps
        self.mu = np.asarray(game.cohs, dtype=float) * steps / 100
        self.s = game.noise * np.sqrt(2 * steps)

    @cached_property
    def threshold(self) -> float:
        """The median of ``|z|`` over the stimulus distribution (high and low equally likely)."""
        if self.s == 0:
            return float(np.median(self.mu))
        grid = np.linspace(0, self.mu.max() + 8 * self.s, 20001)
        mass = np.mean([stats.norm.cdf(grid, m, self.s) - stats.norm.cdf(-grid, m, self.s) for m in self.mu], axis=0)
        return float(grid[np.searchsorted(mass, 0.5)])

    def report(self, z: np.ndarray) -> np.ndarray:
        """Actions 1..4: left-low, left-high, right-low, right-high."""
        return 1 + 2 * (z > 0) + (np.abs(z) > self.threshold)

    @cached_property
    def report_log_ratio(self) -> np.ndarray:
        """log P(report | right) - log P(report | left), for reports 0..3 (action - 1)."""
        if self.s == 0:
            return np.array([-50.0, -50.0, 50.0, 50.0])
        tau = self.threshold

        def probabilities(sign: float) -> np.ndarray:
            cdf = [stats.norm.cdf(x, sign * self.mu, self.s).mean() for x in (-np.inf, -tau, 0.0, tau, np.inf)]
            return np.diff(cdf)  # left-high (z < -tau), left-low, right-low, right-high

        right, left = probabilities(1.0), probabilities(-1.0)
        order = [1, 0, 2, 3]  # reports left-low, left-high, right-low, right-high
        return np.log(np.maximum(right[order], 1e-300)) - np.log(np.maximum(left[order], 1e-300))

    def own_log_ratio(self, z: np.ndarray) -> np.ndarray:
        """log P(z | right) - log P(z | left), coherences equally likely."""
        if self.s == 0:
            return np.sign(z) * 50.0
        # Gaussian log-densities up to their shared normalizing constant, which cancels
        scale = -0.5 / self.s**2
        right = scale * (z[:, None] - self.mu[None, :]) ** 2
        left = scale * (z[:, None] + self.mu[None, :]) ** 2
        return np.logaddexp.reduce(right, axis=1) - np.logaddexp.reduce(left, axis=1)

    def joint(self, z: np.ndarray, partner_report: np.ndarray) -> np.ndarray:
        """The dyad's answer as an action: 1 (left) or 3 (right); no report: own evidence."""
        evidence = self.own_log_ratio(z)
        known = partner_report >= 0
        evidence = evidence + np.where(known, self.report_log_ratio[np.maximum(partner_report, 0)], 0.0)
        return np.where(evidence > 0, 3, 1)


def pooled_bound(game: JointPerceptualDecision) -> float:
    """P(correct) of the decision on both observers' summed evidence: the best any dyad can
    do, since it uses everything both saw."""
    observer = JointObserver(game)
    if observer.s == 0:
        return float(np.mean(np.where(observer.mu > 0, 1.0, 0.5)))
    return float(np.mean(stats.norm.cdf(np.sqrt(2) * observer.mu / observer.s)))


SENSITIVITY_LIMIT = 4.0  # |k| cap: at k = 4 accuracy is within 3e-4 of the curve's limit, so larger k cannot be read


def dyad_sensitivity(game: JointPerceptualDecision, success: float) -> float:
    """The slope ``k`` at which ``mean_coh Phi(k mu_coh / s)`` equals ``success``.

    Bahrami et al. measure a dyad by the slope of its psychometric curve relative to its
    members'. Over the game's coherences, accuracy rises monotonically with ``k``, from
    the 0-coherence trials' share of a half (``k -> -inf``) to all but half of them; ``k =
    1`` is one ideal observer, ``sqrt 2`` both pooled. Successes beyond the curve's reach
    (an agent told the answer) are capped at ``+-SENSITIVITY_LIMIT``.
    """
    observer = JointObserver(game)
    if observer.s == 0:
        return success  # noise-free: every observer is perfect on coherent trials; accuracy is the scale
    ratio = observer.mu / observer.s

    def accuracy(k: float) -> float:
        return float(stats.norm.cdf(k * ratio).mean())

    if success >= accuracy(SENSITIVITY_LIMIT):
        return SENSITIVITY_LIMIT
    if success <= accuracy(-SENSITIVITY_LIMIT):
        return -SENSITIVITY_LIMIT
    return float(optimize.brentq(lambda k: accuracy(k) - success, -SENSITIVITY_LIMIT, SENSITIVITY_LIMIT))


class IdealPartner:
    """The ideal member in ``seat`` (1: the opponent's), for ``n`` sessions at once."""

    def __init__(self, game: JointPerceptualDecision, seat: int) -> None:
        self.game, self.seat = game, seat
        self.observer = JointObserver(game)
        c = game.obs_channels
        self._stimulus, self._report = c["stimulus"], c["report"]

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {"z": np.zeros(n)}

    def begin(self, state: dict[str, np.ndarray], envs: np.ndarray) -> None:
        state["z"][envs] = 0.0

    def act(self, state: dict[str, np.ndarray], game: State, obs: np.ndarray) -> np.ndarray:
        """Actions for the current step, from this seat's observations ``obs`` ``[n, D]``."""
        t = game["t"]
        g = self.game
        seeing = t < g.fixation_steps
        stimulus = obs[:, self._stimulus]
        state["z"] = state["z"] + np.where(seeing, stimulus[:, 1] - stimulus[:, 0], 0.0)
        reporting = (t >= g.fixation_steps) & (t < g.fixation_steps + g.choice_steps)
        joint = t >= g.fixation_steps + g.choice_steps + g.reveal_steps
        shown = obs[:, self._report]
        partner = np.where(shown.any(axis=1), shown.argmax(axis=1), -1)
        actions = np.where(reporting, self.observer.report(state["z"]), 0).astype(np.int64)
        deciding = np.flatnonzero(joint)  # the likelihoods only where the joint answer is due
        if len(deciding):
            actions[deciding] = self.observer.joint(state["z"][deciding], partner[deciding])
        return actions


class IdealPartnerAgent(Agent):
    """The ideal member in the agent's seat: the reference player of the joint decision."""

    name: ClassVar[str] = "ideal_partner"

    def __init__(self, game: JointPerceptualDecision) -> None:
        self.member = IdealPartner(game, seat=0)

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return self.member.init(num_envs)

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, Any]:
        self.member.begin(state, np.flatnonzero(np.asarray(info["new_trial"])))
        return self.member.act(state, {"t": np.asarray(info["step"])}, obs), state
