"""The timing family's NeuroGym ports: MotorTiming and OneTwoThreeGo (ReadySetGo is kept).

Conformance over a small grid, the rules on hand-built action sequences, the graded
reward as a curve (error vs reward, played through the env) against NeuroGym's profile,
and chance checked against a brute-force search over blind go times."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobench
from neurobench.core.rules import Kind
from neurobench.core.stream import TrialStream
from neurobench.tasks.timing import MotorTiming, OneTwoThreeGo, graded_reward
from neurobench.testing import check_task

GRID = [
    "MotorTiming",
    {"id": "MotorTiming", "params": {"dt": 20, "prod_margin": 0.1}},
    "OneTwoThreeGo",
    {"id": "OneTwoThreeGo", "params": {"dt": 50, "timing": {"interval1": [700, 900]}}},
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: n if isinstance(n, str) else f"{n['id']}-{n['params']}")
def test_the_grid_conforms(node):
    check_task(node)


def neurogym_profile(error_ms, interval_ms, margin=0.2):
    """NeuroGym's reward of a go ``error_ms`` from the interval (correct = 1, fail = 0)."""
    tolerance = margin * interval_ms + 25
    closeness = np.clip(1 - error_ms / tolerance, 0, 1)
    return np.where(error_ms > tolerance, 0.0, np.maximum(closeness**1.5, 0.1))


def first_trial(task, seed):
    return TrialStream(task, seed).take(1)


def play(task, seed, go_at):
    """The first trial of ``seed`` played going at the steps in ``go_at``: rewards, record."""
    env = neurobench.make(task, trials_per_episode=None)
    env.reset(seed=seed)
    rewards, t = [], 0
    while True:
        _, reward, _, _, info = env.step(int(t in go_at))
        rewards.append(reward)
        t += 1
        if "trial" in info:
            return np.array(rewards), info["trial"]


def window_of(task, batch):
    if isinstance(task, MotorTiming):
        return int(batch.periods["production"][0][0]), int(batch.periods["production"][1][0])
    return int(batch.periods["interval3"][0][0]), int(batch.periods["response"][1][0])


@pytest.mark.parametrize("task", [MotorTiming(), OneTwoThreeGo(), MotorTiming(dt=20), OneTwoThreeGo(prod_margin=0.1)])
def test_reward_against_production_error_follows_neurogyms_profile(task):
    """The curve: going at every step of the window in turn (one replay each), the trial's
    reward as a function of the production error is NeuroGym's graded profile, 1 at no
    error, at least 0.1 up to the tolerance and 0 beyond; the outcome is correct exactly
    inside the tolerance."""
    for seed in (0, 1, 2):
        batch = first_trial(task, seed)
        interval = float(batch.conditions["production" if isinstance(task, MotorTiming) else "interval"][0])
        start, end = window_of(task, batch)
        errors, rewards, correct = [], [], []
        for k in range(end - start):
            reward, record = play(task, seed, {start + k})
            assert record["response"] == 1
            errors.append(abs(k * task.dt - interval))
            rewards.append(reward.sum())
            correct.append(record["outcome"] == "correct")
        errors, rewards = np.array(errors), np.array(rewards)
        np.testing.assert_allclose(rewards, neurogym_profile(errors, interval, task.prod_margin), atol=1e-9)
        tolerance = task.prod_margin * interval + 25
        np.testing.assert_array_equal(correct, errors <= tolerance)
        order = np.argsort(errors, kind="stable")
        inside = order[errors[order] <= tolerance]
        assert np.all(np.diff(rewards[inside]) <= 1e-12), "the reward falls as the error grows"
        assert rewards[inside].min() >= 0.1
        assert rewards[errors > tolerance].max(initial=0.0) == 0.0
        best = int(np.argmax(batch.target[0]))  # the target: the step of the smallest error
        assert best - start == int(np.argmin(errors))


@given(
    error=st.floats(0, 2000, allow_nan=False),
    interval=st.floats(100, 3000, allow_nan=False),
    margin=st.floats(0, 1, allow_nan=False),
)
def test_graded_reward_is_neurogyms_formula(error, interval, margin):
    tolerance = np.array([margin * interval + 25])
    value = graded_reward(np.array([error]), tolerance, 1.0)[0]
    assert value == pytest.approx(float(neurogym_profile(np.array([error]), interval, margin)[0]), abs=1e-12)
    assert (0.1 <= value <= 1.0) if error <= tolerance[0] else value == 0.0


@settings(max_examples=12, deadline=None)
@given(dt=st.sampled_from([10, 20, 40, 80, 100]), margin=st.floats(0, 0.5), which=st.sampled_from([0, 1]))
def test_payoffs_are_graded_on_time_and_fail_elsewhere(dt, margin, which):
    task = (MotorTiming, OneTwoThreeGo)[which](dt=dt, prod_margin=margin)
    batch = task.sample(np.random.default_rng(0), 64)
    key = "production" if which == 0 else "interval"
    interval = batch.conditions[key].astype(float)
    kind = batch.phase & 7
    inside = np.isin(kind, (Kind.GO_ANY, Kind.GO_NONE))
    start = np.argmax(inside, axis=1)
    error = np.abs((np.arange(batch.max_length)[None, :] - start[:, None]) * dt - interval[:, None])
    expected = np.where(error <= margin * interval[:, None] + 25, neurogym_profile(error, interval[:, None], margin), 0)
    np.testing.assert_allclose(batch.payoff[..., 1][inside], expected[inside], atol=1e-6)
    np.testing.assert_array_equal(kind[inside] == Kind.GO_ANY, (error <= margin * interval[:, None] + 25)[inside])


def test_motor_timing_inputs_and_periods():
    """Fixation and the interval cue (one unit per interval) stay on through cue and set,
    the set unit marks the set flash, and everything is off while producing; the window
    lasts twice the interval."""
    task = MotorTiming()
    batch = task.sample(np.random.default_rng(3), 200)
    c = task.obs_channels
    for i in range(batch.n):
        (f0, f1), (s0, s1), (p0, p1) = (
            (batch.periods[p][0][i], batch.periods[p][1][i]) for p in ("fixation", "set", "production")
        )
        obs = batch.obs[i]
        assert obs[:s1, c["fixation"]].min() == 1
        assert obs[p0:p1].max() == 0
        which = batch.conditions["production_ind"][i]
        np.testing.assert_array_equal(obs[f1:s1, c["interval"]], np.eye(2)[np.full(s1 - f1, which)])
        assert obs[f0:f1, c["interval"]].max() == 0
        assert obs[s0:s1, c["set"]].min() == 1
        assert obs[:s0, c["set"]].max() == 0
        assert p1 - p0 == int(2 * batch.conditions["production"][i] // task.dt)
    assert set(np.unique(batch.conditions["production"])) == {800.0, 1500.0}
    assert abs(np.mean(batch.conditions["production_ind"]) - 0.5) < 0.1


@pytest.mark.parametrize(("dt", "steps"), [(80, 1), (20, 2), (50, 1), (10, 5)])
def test_the_set_flash_lasts_at_least_one_step(dt, steps):
    """NeuroGym's 50 ms set flash floors to no step at dt = 80 ms; here it is one step."""
    batch = MotorTiming(dt=dt).sample(np.random.default_rng(0), 20)
    start, end = batch.periods["set"]
    np.testing.assert_array_equal(end - start, steps)


def test_one_two_three_go_inputs_and_periods():
    """Fixation is on through the whole trial, the target from its onset, the flashes mark
    s1, s2 and s3, and the three intervals are the same drawn interval."""
    task = OneTwoThreeGo()
    batch = task.sample(np.random.default_rng(4), 300)
    c = task.obs_channels
    for i in range(batch.n):
        length = batch.length[i]
        obs = batch.obs[i, :length]
        assert obs[:, c["fixation"]].min() == 1
        target_start = batch.periods["target"][0][i]
        assert obs[:target_start, c["target"]].max() == 0
        assert obs[target_start:, c["target"]].min() == 1
        flashes = np.zeros(length, bool)
        for p in ("s1", "s2", "s3"):
            flashes[batch.periods[p][0][i] : batch.periods[p][1][i]] = True
        np.testing.assert_array_equal(obs[:, c["stimulus"].start] == 1, flashes)
        widths = [batch.periods[p][1][i] - batch.periods[p][0][i] for p in ("interval1", "interval2", "interval3")]
        assert len(set(widths)) == 1
        assert widths[0] * task.dt == batch.conditions["interval"][i]
    values, counts = np.unique(batch.conditions["interval"], return_counts=True)
    np.testing.assert_array_equal(values, [560, 640, 800, 880, 960])  # NeuroGym's choices floored to dt = 80
    assert counts.min() > 30


def test_one_two_three_go_fixation_until_s3_and_early_goes():
    task = OneTwoThreeGo()
    batch = first_trial(task, 5)
    interval2 = int(batch.periods["interval2"][0][0])
    reward, record = play(task, 5, {interval2})  # a go before s3 costs the abort penalty only
    assert reward[interval2] == pytest.approx(-0.1)
    assert record["outcome"] == "miss"
    aborting = OneTwoThreeGo(abort=True)
    reward, record = play(aborting, 5, {interval2})
    assert record["outcome"] == "abort"
    assert len(reward) == interval2 + 1
    start = int(batch.periods["interval3"][0][0])
    reward, record = play(task, 5, {start})  # at s3's offset: an interval too early
    assert record["outcome"] == "fail"
    assert reward.sum() == 0
    best = int(batch.periods["response"][0][0])
    reward, record = play(task, 5, {best})
    assert record["outcome"] == "correct"
    assert reward.sum() == pytest.approx(1.0)


def test_motor_timing_fixation_rule():
    """Only the fixation period is held (NeuroGym): a go there costs -0.1, a go during
    the cue is free, and the trial can still be answered."""
    task = MotorTiming()
    batch = first_trial(task, 6)
    best = int(np.argmax(batch.target[0]))
    reward, record = play(task, 6, {1, int(batch.periods["cue"][0][0]) + 1, best})
    assert reward[1] == pytest.approx(-0.1)
    assert record["outcome"] == "correct"
    assert reward.sum() == pytest.approx(1.0 - 0.1)


@pytest.mark.parametrize("task", [MotorTiming(), OneTwoThreeGo(), OneTwoThreeGo(dt=20, prod_margin=0.3)])
def test_chance_is_the_best_blind_go_time(task):
    """Brute force over go times counted from the window's opening, on many sampled
    trials, finds the stated chance and its step."""
    batch = TrialStream(task, 11).take(20000)
    kind = batch.phase & 7
    inside = np.isin(kind, (Kind.GO_ANY, Kind.GO_NONE))
    start = np.argmax(inside, axis=1)
    rows = np.arange(batch.n)
    width = int(inside.sum(axis=1).max())
    on_time = np.array(
        [np.mean(kind[rows, np.minimum(start + k, batch.max_length - 1)] == Kind.GO_ANY) for k in range(width)]
    )
    chance = task.chance().value
    assert on_time.max() == pytest.approx(chance, abs=4 * np.sqrt(chance * (1 - chance) / batch.n))
    assert task.blind_policy().k == int(np.argmax(on_time)) or on_time[task.blind_policy().k] == pytest.approx(
        on_time.max(), abs=0.01
    )
    assert task.ceiling().value == 1.0


def test_levels_of_the_defaults_are_what_the_intervals_allow():
    """MotorTiming's two intervals' on-time windows do not overlap (one of two, 0.5);
    OneTwoThreeGo's five floored intervals allow three at best (0.6)."""
    assert MotorTiming().chance().value == 0.5
    assert OneTwoThreeGo().chance().value == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("cls", "timing"),
    [(MotorTiming, {"production": 1000}), (OneTwoThreeGo, {"interval2": 500}), (OneTwoThreeGo, {"interval3": 0})],
)
def test_derived_periods_cannot_be_set(cls, timing):
    with pytest.raises(neurobench.InvalidParameterError, match="cannot be set"):
        cls(timing=timing)


def test_bad_parameters_name_themselves():
    with pytest.raises(neurobench.InvalidParameterError, match="prod_margin"):
        MotorTiming(prod_margin=-1)
    with pytest.raises(neurobench.UnknownNameError, match="measure"):
        OneTwoThreeGo(timing={"measure": 100})
