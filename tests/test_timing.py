import math

import numpy as np
import pytest
from scipy import stats

from neurobench.core.errors import InvalidParameterError
from neurobench.core.timing import (
    Choice,
    Constant,
    TruncatedExponential,
    Uniform,
    parse_duration,
    to_steps,
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (300, Constant(300.0)),
        (2.5, Constant(2.5)),
        ((300, 500), Choice((300.0, 500.0))),
        ([300, 500], Choice((300.0, 500.0))),
        (("uniform", (300, 600)), Uniform(300.0, 600.0)),
        (["uniform", [300, 600]], Uniform(300.0, 600.0)),
        (("choice", [1, 2]), Choice((1.0, 2.0))),
        (("constant", 7), Constant(7.0)),
        (("truncated_exponential", (600, 300, 3000)), TruncatedExponential(600.0, 300.0, 3000.0)),
        (("truncated_exponential", 600), TruncatedExponential(600.0)),
        (Uniform(1, 2), Uniform(1, 2)),
    ],
)
def test_every_documented_form_parses(spec, expected):
    assert parse_duration(spec, "stimulus") == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (-100, ">= 0"),
        (("uniform", (600, 300)), "upper bound"),
        (("gaussian", (1, 2)), "unknown distribution 'gaussian'"),
        (("uniform", ("a", 2)), "bad arguments"),
        ("500", "cannot read duration"),
        ([], "empty list"),
        ({"uniform": [1, 2]}, "cannot read duration"),
        ((-5, 10), ">= 0"),
        (math.nan, ">= 0"),
    ],
)
def test_bad_durations_name_the_period_and_the_problem(spec, fragment):
    with pytest.raises(InvalidParameterError) as error:
        parse_duration(spec, "delay")
    assert "timing['delay']" in str(error.value)
    assert fragment in str(error.value)


def test_unknown_distribution_error_lists_the_valid_ones():
    with pytest.raises(InvalidParameterError, match="constant, choice, uniform, truncated_exponential"):
        parse_duration(("normal", 3), "delay")


def test_steps_are_floored_to_multiples_of_dt():
    assert to_steps(np.array([500.0, 479.0, 480.0, 0.0]), 80).tolist() == [6, 5, 6, 0]
    assert to_steps(np.array([0.3 * 1000]), 100.0).tolist() == [3]  # no float surprise


def _rejection_truncexp(rng, mean, low, high, n):
    """NeuroGym's definition: exponential draws rejected until in [low, high)."""
    out = []
    while len(out) < n:
        x = rng.exponential(mean, size=n)
        out.extend(x[(x >= low) & (x < high)])
    return np.array(out[:n])


@pytest.mark.parametrize(("mean", "low", "high"), [(600, 300, 3000), (200, 0, 500), (100, 50, math.inf)])
def test_truncated_exponential_matches_rejection_sampling(mean, low, high):
    rng = np.random.default_rng(1)
    ours = TruncatedExponential(mean, low, high).sample(rng, 20_000)
    reference = _rejection_truncexp(np.random.default_rng(2), mean, low, high, 20_000)
    assert ours.min() >= low
    assert ours.max() < high
    assert stats.ks_2samp(ours, reference).pvalue > 1e-3
    assert TruncatedExponential(mean, low, high).mean == pytest.approx(reference.mean(), rel=0.03)


@pytest.mark.parametrize(
    "duration",
    [Constant(300), Choice((100, 200, 700)), Uniform(300, 600), TruncatedExponential(600, 300, 3000)],
)
def test_samples_stay_in_bounds_and_average_to_the_mean(duration):
    draws = duration.sample(np.random.default_rng(0), 50_000)
    low, high = duration.bounds
    assert draws.min() >= low
    assert draws.max() <= high
    assert draws.mean() == pytest.approx(duration.mean, rel=0.02)
    assert duration.representative().mean() == pytest.approx(duration.mean, rel=0.01)


def test_constant_durations_use_no_randomness():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    Constant(100).sample(rng, 10)
    assert rng.bit_generator.state == state
