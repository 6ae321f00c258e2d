"""Chance: the success of the best policy that ignores the stimulus.

For a discrete trial task the stimulus-blind policies that matter are constant answers:
one fixed answer (or withholding) per response window, given when the window closes.
:func:`best_constant` scores every such tuple of answers on a large seeded sample of the
task's own trials through its own response rule (accept sets, no-go windows, partial
credit included) and keeps the best; its success, with its standard error, is the task's
chance unless the task states an exact value (the conformance kit checks that the two
agree). This is what makes chance honest when answers are unbalanced (ties resolved to
one side, a class prior) or withholding wins.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from neurobench.core.rules import LAST, RESPONSE_KINDS, Outcome
from neurobench.core.stream import TrialStream
from neurobench.core.task import Level, TrialTask
from neurobench.core.trials import TrialBatch

SAMPLE_TRIALS = 20_000
SAMPLE_SEED = 2**31 - 1  # a seed no suite trains or evaluates on
_MAX_TUPLES = 4096


def window_credit(task: TrialTask, batch: TrialBatch) -> np.ndarray:
    """``[n, W, A]``: the success of answering action ``a`` (0: withholding, where the task
    has fixation) at the last step of each trial's ``k``-th response window. Trials with
    fewer windows than ``W`` get credit 1 on the missing ones (they do not constrain)."""
    table = task.table
    kind, last = batch.phase & 7, (batch.phase & LAST) > 0
    closing = np.isin(kind, RESPONSE_KINDS) & last
    rows, steps = np.nonzero(closing)
    order = np.lexsort((steps, rows))
    rows, steps = rows[order], steps[order]
    counts = np.bincount(rows, minlength=batch.n)
    width = int(counts.max()) if len(counts) else 0
    slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    n_actions = task.n_actions
    actions = np.arange(n_actions)
    keys = table.keys(table.states(batch.phase[rows, steps], batch.target[rows, steps])[:, None], actions[None, :])
    event = table.event.take(keys)
    credit = (event == Outcome.CORRECT).astype(np.float64)
    if batch.credit is not None:
        answered = table.answered.take(keys)
        credit = np.where(answered, batch.credit[rows, steps], credit)
    out = np.ones((batch.n, width, n_actions))
    out[rows, slot] = credit
    return out


def best_constant(task: TrialTask, trials: int = SAMPLE_TRIALS) -> tuple[tuple[int, ...], float, float]:
    """The best tuple of constant answers (one per window), its success and standard error."""
    return _best_constant(task, trials)


@cache
def _best_constant(task: TrialTask, trials: int) -> tuple[tuple[int, ...], float, float]:
    batch = TrialStream(task, SAMPLE_SEED).take(trials)
    credit = window_credit(task, batch)
    width, n_actions = credit.shape[1], credit.shape[2]
    if width == 0:
        return (), 1.0, 0.0
    if n_actions**width > _MAX_TUPLES:  # many windows: choose window by window (they rarely interact)
        best = tuple(int(np.argmax(credit[:, k].mean(axis=0))) for k in range(width))
    else:
        best = max(
            itertools.product(range(n_actions), repeat=width),
            key=lambda answers: float(np.prod(credit[:, np.arange(width), list(answers)], axis=1).mean()),
        )
    success = np.prod(credit[:, np.arange(width), list(best)], axis=1)
    return best, float(success.mean()), float(success.std(ddof=1) / np.sqrt(len(success)))


def blind_chance(task: TrialTask) -> Level:
    """Chance as estimated by :func:`best_constant`, labelled with how it was obtained."""
    answers, value, se = best_constant(task)
    labels = task.action_channels.labels()
    said = ", ".join(labels[a] if a < len(labels) else str(a) for a in answers)
    return Level(
        value,
        f"estimate: the best constant answers per window ({said}) on {SAMPLE_TRIALS} seeded trials",
        "estimate",
        se,
    )


def uniform(answers: int, windows: int = 1) -> Level:
    """Exact chance of a task whose every window has ``answers`` equally likely answers."""
    return Level(float(answers) ** -windows, f"exact: {answers} equally likely answers per window, {windows} window(s)")


def session_estimate(per_session: np.ndarray, method: str) -> Level:
    """A level estimated by playing seeded sessions: the mean of the sessions' successes,
    with the standard error of that mean (sessions are independent, their trials are not)."""
    return Level(
        float(per_session.mean()), method, "estimate", float(per_session.std(ddof=1) / np.sqrt(len(per_session)))
    )
