"""Noise: extra Gaussian noise on the observations, drawn with the trials."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import gymnasium as gym
import numpy as np

from neurobench.core.checks import check_number
from neurobench.core.task import Level
from neurobench.core.trials import NOISE_CLIP, TrialBatch
from neurobench.wrappers.base import TaskWrapper


@dataclass(frozen=True, eq=False)
class Noise(TaskWrapper):
    """Adds Gaussian noise of std ``std`` to ``channels`` (all by default) at every step.

    Unlike NeuroGym's wrapper, the noise is drawn with the trials from the stream's
    generators, so ``reset(seed=)`` still fixes everything, and the vector env and the
    Dataset see the same noisy trials.

    Changes the observations (and their bounds); answers, rule and chance are the inner
    task's; the inner ceiling becomes an upper bound (noise cannot help).
    """

    std: float = 0.1
    channels: tuple[str, ...] | None = None

    def validate(self) -> None:
        check_number("std", self.std, minimum=0)
        for name in self.channels or ():
            self.task.obs_channels[name]  # unknown names raise, listing the valid ones

    @cached_property
    def _units(self) -> np.ndarray:
        units = np.zeros(self.obs_channels.size, dtype=bool)
        for name in self.channels or tuple(self.obs_channels):
            units[self.obs_channels[name]] = True
        return units

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        inner = self.task.observation_space
        margin = np.where(self._units, NOISE_CLIP * self.std, 0.0).astype(np.float32)
        return gym.spaces.Box(inner.low - margin, inner.high + margin, dtype=np.float32)

    def transform(self, batch: TrialBatch, rng: np.random.Generator) -> TrialBatch:
        if self.std == 0:
            return batch
        noise = rng.standard_normal((*batch.obs.shape[:2], int(self._units.sum())), dtype=np.float32)
        np.clip(noise, -NOISE_CLIP, NOISE_CLIP, out=noise)
        noise *= np.float32(self.std) * (np.arange(batch.max_length) < batch.length[:, None])[..., None]
        obs = batch.obs.copy()
        obs[..., self._units] += noise
        return replace(batch, obs=obs)

    def _chance(self) -> Level:
        return self.task.chance()

    def _ceiling(self) -> Level:
        inner = self.task.ceiling()
        if self.std == 0:
            return inner
        return Level(inner.value, f"bound: the ceiling without the added noise ({inner.method})", "bound", inner.se)
