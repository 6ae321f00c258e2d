"""Frozen versions: every task version keeps its trials, and version 0 keeps the first
release's."""

import json
from pathlib import Path

import numpy as np
import pytest

import neurobench
from neurobench.testing import pinned_ids, trial_digest

DIGESTS = json.loads((Path(__file__).parent / "data" / "trial_digests.json").read_text())


def test_every_task_version_has_pinned_trials():
    """Regenerate with ``python -m neurobench digests --write tests/data/trial_digests.json``
    only for a *new* version: an existing version's trials must not move."""
    assert sorted(DIGESTS) == sorted(pinned_ids())


@pytest.mark.parametrize("task_id", sorted(DIGESTS))
def test_a_version_draws_the_trials_it_was_pinned_with(task_id):
    current, pinned = trial_digest(task_id), DIGESTS[task_id]
    assert current["hash"] == pinned["hash"], f"{task_id}: targets, lengths or phases moved: bump the version"
    np.testing.assert_allclose(current["obs_sum"], pinned["obs_sum"], atol=0.01, err_msg=task_id)
    np.testing.assert_allclose(current["obs_weighted"], pinned["obs_weighted"], atol=0.05, err_msg=task_id)


FIRST_RELEASE = {  # 32 trials of sample(default_rng(0), 32) in NeuroBench 0.1: per obs unit, sum and step-weighted sum
    "PerceptualDecisionMaking": ((32.00, 290.51, 350.96), (0.00, 3037.32, 3675.06)),
    "PerceptualDecisionMakingDelayResponse": ((858.00, 159.55, 193.54), (13164.00, 808.49, 962.34)),
    "PulseDecisionMaking": ((6400.00, 78.00, 96.00), (636800.00, 8475.00, 10775.00)),
    "DelayMatchSample": ((736.00, 185.11, 135.00), (8096.00, 2485.89, 1501.55)),
    "DelayMatchCategory": ((672.00, 178.32, 217.83, 206.88, 166.26), (6720.00, 2788.62, 3424.96, 3193.87, 2501.37)),
    "DelayComparison": ((800.00, 242.73), (9600.00, 3589.67)),
    "DualDelayMatchSample": (
        (1280.00, 156.60, 165.53, 138.22, 177.91, 160.00, 160.00),
        (24960.00, 3289.52, 2692.06, 2019.18, 3656.06, 3995.00, 3845.00),
    ),
    "DelayPairedAssociation": ((1280.00, 110.00, 210.00, 190.00, 130.00), (24960.00, 495.00, 945.00, 4655.00, 3185.00)),
    "IntervalDiscrimination": ((1069.00, 168.00, 183.00), (17408.00, 887.00, 4400.00)),
}


@pytest.mark.parametrize("name", sorted(FIRST_RELEASE))
def test_version_zero_draws_the_first_releases_trials(name):
    batch = neurobench.make_task(f"{name}-v0").sample(np.random.default_rng(0), 32)
    obs = batch.obs.astype(np.float64)
    step = np.arange(obs.shape[1])[None, :, None]
    sums, timed = FIRST_RELEASE[name]
    np.testing.assert_allclose(obs.sum(axis=(0, 1)), sums, atol=0.01)
    np.testing.assert_allclose((obs * step).sum(axis=(0, 1)), timed, atol=0.05)


def test_version_zero_streams_are_the_first_releases_sequential_streams_and_version_one_is_keyed():
    old, new = neurobench.make_task("PerceptualDecisionMaking-v0"), neurobench.make_task("PerceptualDecisionMaking-v1")
    a = neurobench.core.stream.TrialStream(old, 0).take(5)
    expected = old.sample(np.random.Generator(np.random.PCG64(np.random.SeedSequence(0))), old.chunk_size)
    np.testing.assert_array_equal(a.obs, expected.take(np.arange(5)).obs)  # chunk 0 from Gymnasium's seed-0 generator
    b = neurobench.core.stream.TrialStream(new, 0).take(5)
    assert not np.array_equal(a.obs, b.obs)
