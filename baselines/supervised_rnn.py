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

import json
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
        batch_size: int = 16,
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
        self.continuous = task.continuous
        self.net = _network(self.cell, task.obs_channels.size, self.hidden_size, task.n_actions)
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
        start, hidden = 0, None
        progress_file = None if workdir is None else Path(workdir) / "progress.json"
        if progress_file is not None and progress_file.exists():
            # resumed in O(1): the weights, and where the seeded dataset was (no replay)
            saved = json.loads(progress_file.read_text())
            tensors = torch.load(Path(workdir) / "model.pt", weights_only=True)  # type: ignore[arg-type]
            self.net.load_state_dict(tensors["net"])
            optimizer.load_state_dict(tensors["optimizer"])
            hidden = tensors.get("hidden")
            start = int(saved["update"])
            data = Dataset(
                task,
                self.batch_size,
                self.seq_len,
                fixation_weight=self.fixation_weight,
                end_at_answer=self.end_at_answer,
                torch=True,
                state=saved["dataset"],
            )
        self.net.train()
        for update in range(start, updates):
            inputs, targets, weights = data.draw()
            logits, hidden = self.net(inputs, hidden if self.carry_state else None)
            hidden = _detach(hidden)
            loss = _loss(logits, targets, weights, self.continuous)
            optimizer.zero_grad()
            loss.backward()
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
            optimizer.step()
            if progress is not None:
                progress(min((update + 1) * per_batch, budget), budget)
            if workdir is not None and (update + 1) % self.checkpoint_every == 0:
                _save(Path(workdir), self.net, optimizer, update + 1, hidden, data)
        if workdir is not None:
            _save(Path(workdir), self.net, optimizer, max(updates, start), hidden, data)
        self.net.eval()

    def save(self, folder: Path) -> None:
        """The trained network (weights only; its shape is in the agent's config)."""
        import torch

        Path(folder).mkdir(parents=True, exist_ok=True)
        torch.save({"net": self.net.state_dict()}, Path(folder) / "weights.pt")

    def load(self, folder: Path, task: Task) -> None:
        """A network trained by :meth:`fit`, from ``folder`` (``save``'s or ``fit``'s files)."""
        import torch

        self.continuous = task.continuous
        self.net = _network(self.cell, task.obs_channels.size, self.hidden_size, task.n_actions)
        path = Path(folder) / "weights.pt"
        if not path.exists():
            path = Path(folder) / "model.pt"
        self.net.load_state_dict(torch.load(path, weights_only=True)["net"])
        self.net.eval()

    def hidden(self, state: tuple[Any, Any]) -> np.ndarray | None:
        hidden = state[0]
        if hidden is None:
            return None
        h = hidden[0] if isinstance(hidden, tuple) else hidden
        return h[-1].numpy()

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[Any, Any]:
        import torch

        return None, torch.Generator().manual_seed(seed)

    def act(self, obs: np.ndarray, state: tuple[Any, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        import torch

        hidden, generator = state
        with torch.no_grad():
            logits, hidden = self.net(torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))[:, None], hidden)
            if self.continuous:  # a report: the network's output, inside the action box
                return np.clip(logits[:, 0].numpy(), -1.0, 1.0), (hidden, generator)
            actions = choose(logits[:, 0], self.greedy, generator)
        return actions, (hidden, generator)


def _loss(outputs: Any, targets: Any, weights: Any, continuous: bool) -> Any:
    """Cross-entropy on discrete targets; squared error on continuous ones (reports)."""
    import torch

    if continuous:
        losses = ((outputs - targets) ** 2).sum(dim=-1).flatten()
    else:
        losses = torch.nn.functional.cross_entropy(outputs.flatten(0, 1), targets.flatten().long(), reduction="none")
    return (losses * weights.flatten()).sum() / weights.sum()


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


def _save(folder: Path, net: Any, optimizer: Any, update: int, hidden: Any, data: Dataset) -> None:
    """Weights (tensors only: loaded with ``weights_only``, never unpickled) then progress
    and the dataset's place, each written atomically; the progress file marks it complete."""
    import torch

    from neurobench.scoring.results import write_json

    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / ".model.pt.tmp"
    tensors = {"net": net.state_dict(), "optimizer": optimizer.state_dict()}
    if hidden is not None:
        tensors["hidden"] = hidden
    torch.save(tensors, temporary)
    temporary.replace(folder / "model.pt")
    write_json(folder / "progress.json", {"update": update, "dataset": data.state()})
