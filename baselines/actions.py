"""How the torch baselines turn a policy's logits into actions, shared so they act alike."""

from __future__ import annotations

from typing import Any

import numpy as np


def choose(logits: Any, greedy: bool, generator: Any) -> np.ndarray:
    """The most likely action per env (``greedy``), or one sampled from the softmax with
    ``generator``: evaluation is then seeded like everything else."""
    import torch

    if greedy:
        return logits.argmax(dim=-1).numpy()
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)[:, 0].numpy()
