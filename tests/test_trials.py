"""The trial builder's writes: whatever path a write takes (a slice for fixed periods,
flat rows for wide channels at variable steps, a masked copy for narrow or non-viewable
arrays), it lands exactly where a plain masked assignment would."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurobench.core.registry import make_task

TASK = make_task("yang19.dm1")  # variable periods, 32-unit rings, a one-unit fixation input
PERIODS = ("fixation", "stimulus", "decision")
periods = st.lists(st.sampled_from(PERIODS), min_size=1, max_size=3, unique=True).map(tuple)
# consecutive periods: one run of steps per trial, so noise is one draw in step order
runs = st.tuples(st.integers(0, 2), st.integers(1, 3)).filter(lambda r: r[0] < r[1]).map(lambda r: PERIODS[r[0] : r[1]])


def _builder(seed: int, n: int):
    return TASK.trials(np.random.default_rng(seed), n)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 12),
    chosen=periods,
    channel=st.sampled_from(["stimulus_mod1", "fixation"]),
)
def test_set_writes_each_trials_value_at_the_steps_of_its_periods(seed, n, chosen, channel):
    trials = _builder(seed, n)
    width = trials.obs[..., TASK.obs_channels[channel]].shape[-1]
    values = np.random.default_rng(seed + 1).random((n, width)).astype(np.float32) + 0.5
    trials.set(channel, values, *chosen)
    mask = trials.mask(*chosen)
    expected = np.zeros_like(trials.obs[..., TASK.obs_channels[channel]])
    expected[mask] = np.repeat(values, mask.sum(axis=1), axis=0)
    np.testing.assert_array_equal(trials.obs[..., TASK.obs_channels[channel]], expected)
    others = np.delete(trials.obs, np.r_[TASK.obs_channels[channel]], axis=2)
    assert not others.any()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 12), chosen=periods)
def test_paint_into_an_array_that_cannot_be_flattened_without_a_copy(seed, n, chosen):
    trials = _builder(seed, n)
    array = np.zeros((8, trials.max_length, n), dtype=np.float32).transpose(2, 1, 0)  # [n, T, 8], not flattenable
    values = np.arange(1, n + 1, dtype=np.float32)[:, None] * np.ones(8, dtype=np.float32)
    trials.paint(array, values, *chosen)
    mask = trials.mask(*chosen)
    expected = np.zeros((n, trials.max_length, 8), dtype=np.float32)
    expected[mask] = np.repeat(values, mask.sum(axis=1), axis=0)
    np.testing.assert_array_equal(array, expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 12), chosen=runs)
def test_sparse_noise_on_a_wide_channel_is_the_draws_in_step_order(seed, n, chosen):
    trials = _builder(seed, n)
    trials.add_noise(np.random.default_rng(seed), "stimulus_mod1", *chosen)
    mask = trials.mask(*chosen)
    view = trials.obs[..., TASK.obs_channels["stimulus_mod1"]]
    expected = np.zeros_like(view)
    draws = np.random.default_rng(seed).standard_normal((int(mask.sum()), view.shape[-1]), dtype=np.float32)
    expected[mask] = draws * np.float32(TASK.noise_std)
    np.testing.assert_array_equal(view, expected)
