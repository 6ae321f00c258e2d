"""The Agent protocol: what the harness needs from any model it evaluates.

An agent acts on a *batch* of environments at once and threads its own recurrent state
through ``act``, so one evaluation loop serves a lookup-table oracle and a PyTorch RNN
alike. Wrapping a model takes three methods::

    class MyRNN(Agent):
        def initial_state(self, num_envs, *, seed):
            return torch.zeros(1, num_envs, HIDDEN)
        def act(self, obs, state, info):
            out, state = self.rnn(torch.as_tensor(obs)[:, None], state)
            return self.readout(out[:, 0]).argmax(-1).numpy(), state
        def hidden(self, state):                 # optional: per-step records of activity
            return state[0].numpy()

Evaluation runs each environment as one long session: trials follow one another
without resets, as in the training data, and the state carries across trials.

``fit`` trains (only the harness calls it, with the suite's budget); ``prepare`` readies
an agent for a task without changing what it learned (evaluation and plots call it), so
nothing given a trained agent retrains it. ``save``/``load`` keep what it learned in a
folder (the run directory's ``work/<job>/``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from neurobench.core.task import Task


class Agent(ABC):
    """Base class (and protocol) of agents.

    ``info`` passed to :meth:`act` holds per-environment arrays: ``new_trial`` (bool: the
    observation is the first of a new trial), ``window`` (0: no response is due, 1: a
    response is due, 2: due and this is its last step), ``step`` (step within the trial)
    and ``target`` (the correct action now; privileged, only reference agents such as the
    oracle may read it).
    """

    name: ClassVar[str] = "agent"

    def fit(self, task: Task, *, seed: int, budget: int) -> None:
        """Train on ``task`` for ``budget`` env steps (reference agents: prepare only).

        Learning agents may also accept ``workdir`` (a folder of their own in the run
        directory, kept across interruptions: checkpoint there to resume) and ``progress``
        (call ``progress(steps_done, budget)`` to drive the progress bar); the harness
        passes them only to a ``fit`` that declares them."""
        self.prepare(task)

    def prepare(self, task: Task) -> None:  # noqa: B027 (optional hook)
        """Read what acting on ``task`` needs (its spaces, a readout); never trains."""

    def initial_state(self, num_envs: int, *, seed: int) -> Any:
        """Recurrent state before the first step of ``num_envs`` sessions."""
        return None

    @abstractmethod
    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        """Actions ``[num_envs]`` (``[num_envs, k]`` for Box actions) for ``obs``."""

    @property
    def row_independent(self) -> bool:
        """True when each env's action depends only on that env's observations, info and
        state, and acting draws nothing at random: the agent may then act on any subset
        of the envs with the same result (a multitask's per-task dispatch uses it)."""
        return False

    def hidden(self, state: Any) -> np.ndarray | None:
        """The hidden activity ``[num_envs, units]`` in ``state``, for per-step records
        (``None``: the agent exposes none)."""
        return None

    def save(self, folder: Path) -> None:  # noqa: B027 (agents with nothing learned save nothing)
        """Write what the agent learned into ``folder``."""

    def load(self, folder: Path, task: Task) -> None:
        """Read what :meth:`save` wrote, ready to act on ``task`` (no training)."""
        self.prepare(task)
