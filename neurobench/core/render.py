"""What ``TaskEnv(render_mode="rgb_array")`` draws: the last trials, as the trial plot."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from neurobench.core.task import Task

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

KEPT_TRIALS = 3


class Recorder:
    """Keeps the steps of the last ``KEPT_TRIALS`` trials an env played."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.trials: deque[list[dict[str, Any]]] = deque(maxlen=KEPT_TRIALS)

    def begin(self, obs: np.ndarray, info: dict[str, Any], period: int) -> None:
        self.trials.append([])
        self._pending = (obs, info["target"], period)

    def record(self, action: Any, reward: float, info: dict[str, Any], obs: np.ndarray, period: int) -> None:
        seen, target, at = self._pending
        self.trials[-1].append({"obs": seen, "target": target, "period": at, "action": action, "reward": reward})
        if info["new_trial"]:
            self.trials.append([])
        self._pending = (obs, info["target"], period)

    def image(self) -> np.ndarray:
        """The trial plot of the kept steps as an ``[height, width, 3]`` uint8 array."""
        import matplotlib

        from neurobench.plot import _draw

        steps = [s for trial in self.trials for s in trial]
        if not steps:
            return np.zeros((1, 1, 3), dtype=np.uint8)
        lengths = [len(t) for t in self.trials if t]
        names = [self.task.period_names[s["period"]] if s["period"] >= 0 else "" for s in steps]
        with matplotlib.rc_context({"backend": "Agg"}):
            fig = _draw(
                self.task,
                np.stack([s["obs"] for s in steps]),
                np.stack([np.asarray(s["target"]) for s in steps]),
                names,
                lengths,
                np.stack([np.asarray(s["action"]) for s in steps]),
                np.array([s["reward"] for s in steps], dtype=float),
            )
            fig.canvas.draw()
            canvas = cast("FigureCanvasAgg", fig.canvas)  # drawn under the Agg backend
            image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        import matplotlib.pyplot as plt

        plt.close(fig)
        return image
