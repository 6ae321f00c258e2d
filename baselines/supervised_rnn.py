"""A recurrent network trained with supervision on ``neurobench.Dataset``.

The field's default (Yang et al. 2019): inputs are the task's observations, targets the
correct action at every step, cross-entropy loss (fixation steps down-weighted by
``fixation_weight``) and Adam. The budget is the number of time steps of data seen.
Evaluated in the env by the harness like every agent.

Every batch starts from a zero hidden state (``carry_state: false``, NeuroGym's practice),
though the dataset's rows continue their trials across batches. Carrying the state over
instead means the network only ever meets a zero state once, in its first batch. In the
env, every session starts from one, and such a network failed the first trial of every
one of the 64 evaluation envs. On DelayMatchSample that is 13% of 500 trials, and it held
the score at 0.74-0.87 however long the network trained. From zero states the network
reached 0.95-1.0 in 1M timesteps.

``end_at_answer`` (default on) trains on trials as the env plays them: cut at the
answer. On whole trials (NeuroGym's practice) a network never sees a trial begin right
after an answer, and in the env it does: on DelayMatchSample that drops a network that
is perfect on the dataset to about 0.82 success.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from neurobench.baselines.actions import choose

from neurobench.agents.base import Agent
from neurobench.core.checks import check_int, check_number
from neurobench.core.dataset import Dataset
from neurobench.core.errors import InvalidParameterError
from neurobench.core.task import Task

CELLS = ("rnn", "gru", "lstm")


class SupervisedRNN(Agent):
    """A vanilla (tanh), GRU or LSTM network with a linear readout of the actions."""

    name: ClassVar[str] = "rnn_supervised"

    def __init__(
        self,
        cell: str = "gru",
        hidden_size: int = 128,
        lr: float = 1e-2,
        batch_size: int = 32,
        seq_len: int = 100,
        fixation_weight: float = 0.2,
        end_at_answer: bool = True,
        grad_clip: float = 1.0,
        greedy: bool = True,
        checkpoint_every: int = 200,
        carry_state: bool = False,
    ) -> None:
        if cell not in CELLS:
            raise InvalidParameterError(f"unknown cell type {cell!r}; valid: {', '.join(CELLS)}")
        for key, value in (
            ("hidden_size", hidden_size),
            ("batch_size", batch_size),
            ("seq_len", seq_len),
            ("checkpoint_every", checkpoint_every),
        ):
            check_int(key, value, minimum=1)
        check_number("fixation_weight", fixation_weight, minimum=0)
        check_number("grad_clip", grad_clip, minimum=0)
        check_number("lr", lr, minimum=0)
        if lr == 0:
            raise InvalidParameterError("lr must be > 0")
        self.cell, self.hidden_size, self.lr = cell, hidden_size, lr
        self.batch_size, self.seq_len = batch_size, seq_len
        self.fixation_weight, self.grad_clip = fixation_weight, grad_clip
        self.end_at_answer = end_at_answer
        self.greedy, self.checkpoint_every = greedy, checkpoint_every
        self.carry_state = carry_state

    def fit(
        self,
        task: Task,
        *,
        seed: int,
        budget: int,
        workdir: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        import torch

        torch.set_num_threads(1)
        torch.manual_seed(seed)
        check_int("budget", budget, minimum=0)
        self.net = _network(self.cell, task.obs_channels.size, self.hidden_size, int(task.action_space.n))
        optimizer = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        data = Dataset(
            task,
            self.batch_size,
            self.seq_len,
            seed=seed,
            fixation_weight=self.fixation_weight,
            end_at_answer=self.end_at_answer,
            torch=True,
        )
        per_batch = self.batch_size * self.seq_len
        updates = math.ceil(budget / per_batch)
        checkpoint = None if workdir is None else Path(workdir) / "model.pt"
        start, hidden = 0, None
        if checkpoint is not None and checkpoint.exists():
            saved = torch.load(checkpoint, weights_only=False)
            self.net.load_state_dict(saved["net"])
            optimizer.load_state_dict(saved["optimizer"])
            start, hidden = saved["update"], saved["hidden"]
            for _ in range(start):  # the dataset is seeded: replay it to the same position
                data.draw()
        self.net.train()
        for update in range(start, updates):
            inputs, targets, weights = data.draw()
            logits, hidden = self.net(inputs, hidden if self.carry_state else None)
            hidden = _detach(hidden)
            losses = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten().long(), reduction="none")
            loss = (losses * weights.flatten()).sum() / weights.sum()
            optimizer.zero_grad()
            loss.backward()
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
            optimizer.step()
            if progress is not None:
                progress(min((update + 1) * per_batch, budget), budget)
            if checkpoint is not None and (update + 1) % self.checkpoint_every == 0:
                _save(checkpoint, self.net, optimizer, update + 1, hidden)
        if checkpoint is not None:
            _save(checkpoint, self.net, optimizer, updates, hidden)
        self.net.eval()

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[Any, Any]:
        import torch

        return None, torch.Generator().manual_seed(seed)

    def act(self, obs: np.ndarray, state: tuple[Any, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        import torch

        hidden, generator = state
        with torch.no_grad():
            logits, hidden = self.net(torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))[:, None], hidden)
            actions = choose(logits[:, 0], self.greedy, generator)
        return actions, (hidden, generator)


def _network(cell: str, inputs: int, hidden: int, outputs: int) -> Any:
    import torch

    layer = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell]

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.recurrent = layer(inputs, hidden, batch_first=True)
            self.readout = torch.nn.Linear(hidden, outputs)

        def forward(self, x: Any, state: Any) -> tuple[Any, Any]:
            out, state = self.recurrent(x, state)
            return self.readout(out), state

    return Network()


def _detach(hidden: Any) -> Any:
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def _save(path: Path, net: Any, optimizer: Any, update: int, hidden: Any) -> None:
    """Write to a temporary file, then rename: an interruption never leaves a torn file."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(
        {"net": net.state_dict(), "optimizer": optimizer.state_dict(), "update": update, "hidden": hidden}, temporary
    )
    temporary.replace(path)
