"""Monitor: every finished trial as a row of a pandas DataFrame, running performance, a plot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium.vector import VectorEnv, VectorWrapper

from neurobench.core.errors import InvalidParameterError
from neurobench.core.rules import OUTCOME_NAMES

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class _Records:
    """Rows collected from ``info["trial"]``; shared by the single and vector monitors."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @property
    def records(self) -> pd.DataFrame:
        """One row per finished trial: stream index, outcome, reward, response, conditions,
        and the env step at which it ended."""
        return pd.DataFrame(self.rows)

    def performance(self, window: int | None = 100) -> float:
        """Success rate over the last ``window`` trials (all of them if None)."""
        rows = self.rows if window is None else self.rows[-window:]
        return float(np.mean([r["outcome"] == "correct" for r in rows])) if rows else float("nan")

    def save(self, path: str | Path) -> Path:
        """Write the records as CSV, or Parquet for a ``.parquet`` path (needs pyarrow)."""
        path = Path(path)
        if path.suffix == ".parquet":
            try:
                self.records.to_parquet(path)
            except ImportError as error:
                raise InvalidParameterError(f"saving Parquet needs pyarrow ({error}); use a .csv path") from None
        elif path.suffix == ".csv":
            self.records.to_csv(path, index=False)
        else:
            raise InvalidParameterError(f"save to a .csv or .parquet file, not {path.name!r}")
        return path

    def plot(self, window: int = 50) -> Figure:
        """Success (and running mean over ``window`` trials) across trials."""
        import matplotlib.pyplot as plt

        success = (self.records["outcome"] == "correct").astype(float)
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.plot(success.to_numpy(), ".", alpha=0.2, label="trial")
        ax.plot(success.rolling(window, min_periods=1).mean().to_numpy(), label=f"running mean ({window})")
        ax.set_xlabel("trial")
        ax.set_ylabel("success")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize="small")
        fig.tight_layout()
        return fig


class Monitor(gym.Wrapper, gym.utils.RecordConstructorArgs, _Records):
    """Records every trial the wrapped env finishes (see :class:`_Records`)."""

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        _Records.__init__(self)
        self._steps = 0

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._steps += 1
        if info.get("new_trial"):
            self.rows.append({**info["trial"], "step": self._steps})
        return obs, reward, terminated, truncated, info


class VectorMonitor(VectorWrapper, _Records):
    """Records the trials every environment of a vector env finishes (column ``env``)."""

    def __init__(self, env: VectorEnv) -> None:
        VectorWrapper.__init__(self, env)
        _Records.__init__(self)
        self._steps = 0

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        self._steps += 1
        if "trial" in info:
            trial = info["trial"]
            for e in np.flatnonzero(info["_trial"]):
                row = {k: (v[e].tolist() if isinstance(v[e], np.ndarray) else v[e].item()) for k, v in trial.items()}
                row["outcome"] = OUTCOME_NAMES[row["outcome"]]
                self.rows.append({**row, "env": int(e), "step": self._steps})
        return obs, rewards, terminated, truncated, info
