"""The inhibitory family beyond GoNogo: AntiReach, Detection, ToneDetection and AnnubesEnv —
layouts, trial statistics, the rules step by step, the fixed NeuroGym bugs, Annubes'
session structure (max_sequential) and the levels against independent computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped]

import neurobench
from neurobench.core.stream import SessionStream, TrialStream
from neurobench.testing import check_task

GRID = [
    "AntiReach",
    {"id": "AntiReach", "params": {"anti": False, "dim_ring": 8}},
    "Detection",
    {"id": "Detection", "params": {"delay": 300, "stim_dur": 200}},
    {"id": "Detection", "params": {"sigma": 2.5, "dt": 50}},
    "ToneDetection",
    {"id": "ToneDetection", "params": {"sigma": 3.0}},
    "AnnubesEnv",
    {"id": "AnnubesEnv", "params": {"sigma": 0.5, "intensities": [0.2, 0.4], "timing": {"iti": 300}}},
    {"id": "AnnubesEnv", "params": {"max_sequential": {"catch": 1}, "catch_prob": 0.7}},
    {
        "id": "AnnubesEnv",
        "params": {
            "stimuli": {"v": 1, "a+v": 2, "o": 1},
            "max_sequential": 2,
            "catch_prob": 0.3,
            "sigma": 0.3,
            "intensities": {"a": [0.1], "o": [0.3], "v": [0.2, 0.3]},
        },
    },
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: str(n))
def test_the_inhibitory_tasks_pass_the_conformance_kit(node):
    check_task(node)


def _mask(batch, name):
    start, end = batch.periods[name]
    t = np.arange(batch.max_length)[None, :]
    return (t >= start[:, None]) & (t < end[:, None])


def _play(node, policy, trials, seed=0):
    """Records and per-step rewards of ``policy(info, trial)`` over the first trials, where
    ``trial`` is the conditions of the trial being played (read from the seed's stream)."""
    env = neurobench.make(node, trials_per_episode=None)
    stream = TrialStream(env.unwrapped.task, seed).take(trials + 1)
    _, info = env.reset(seed=seed)
    records, rewards, current = [], [], []
    while len(records) < trials:
        trial = stream.trial_conditions(int(info["trial_index"]))
        _, reward, _, _, info2 = env.step(policy(info, trial))
        current.append(reward)
        info = info2
        if "trial" in info:
            records.append(info["trial"])
            rewards.append(current)
            current = []
    return records, rewards


# -- AntiReach ----------------------------------------------------------------------------
@pytest.mark.parametrize(("anti", "dim_ring"), [(True, 32), (False, 32), (True, 7)])
def test_anti_reach_shows_the_stimulus_opposite_the_answer(anti, dim_ring):
    task = neurobench.make_task("AntiReach", anti=anti, dim_ring=dim_ring)
    batch = TrialStream(task, 0).take(500)
    first = np.argmax(_mask(batch, "stimulus"), axis=1)
    units = batch.obs[np.arange(batch.n), first][:, task.obs_channels["stimulus"]]
    theta = np.arange(dim_ring) * 2 * np.pi / dim_ring
    shown = np.angle(units @ np.exp(1j * theta))  # the direction the population codes
    answer = theta[batch.conditions["ground_truth"]] + (np.pi if anti else 0.0)
    np.testing.assert_allclose(np.cos(shown - answer), 1.0, atol=1e-5)
    decision = _mask(batch, "decision")
    assert np.all(batch.target[decision] == np.repeat(batch.conditions["answer"], decision.sum(axis=1)))
    assert np.all(batch.obs[..., 0][decision] == 0)  # the fixation point's offset is the go cue
    assert task.chance().value == pytest.approx(1 / dim_ring)


# -- Detection ----------------------------------------------------------------------------
def test_detection_no_go_trials_have_their_own_ground_truth_and_the_same_noise():
    task = neurobench.make_task("Detection")
    batch = TrialStream(task, 0).take(6000)
    stim = _mask(batch, "stimulus")
    go = batch.conditions["ground_truth"] == 1
    assert np.all(batch.target[~go] == 0)  # withhold throughout (NeuroGym: the previous trial's)
    t = np.arange(batch.max_length)[None, :]
    onset = batch.periods["stimulus"][0] + (batch.conditions["delay"] / task.dt).astype(int)
    pulse = go[:, None] & (t >= onset[:, None]) & (t < onset[:, None] + 1)
    np.testing.assert_array_equal(batch.target[go] > 0, (stim & (t >= onset[:, None]))[go])
    x = batch.obs[..., 1]
    sigma_step = 1.0 / np.sqrt(100)
    for trials in (go, ~go):  # NeuroGym adds the noise twice on no-go trials
        noise = x[trials][(stim & ~pulse)[trials]]
        assert np.std(noise) == pytest.approx(sigma_step, rel=0.03)
    assert np.mean(x[pulse]) == pytest.approx(0.5, abs=0.01)
    # onsets: uniform over the steps that leave one to answer after a one-step pulse
    steps = batch.periods["stimulus"][1] - batch.periods["stimulus"][0]
    delay = batch.conditions["delay"][go] / task.dt
    assert np.all(delay <= steps[go] - 3)
    assert np.all(delay >= 0)
    short = go & (steps == 5)
    assert set(np.unique(batch.conditions["delay"][short] / task.dt)) == {0, 1, 2}


def test_detection_delay_is_in_milliseconds():
    task = neurobench.make_task("Detection", delay=300, stim_dur=200, sigma=0.0)
    batch = TrialStream(task, 0).take(200)
    go = batch.conditions["ground_truth"] == 1
    start = batch.periods["stimulus"][0]
    x = batch.obs[..., 1]
    for i in np.flatnonzero(go)[:20]:
        np.testing.assert_array_equal(np.flatnonzero(x[i]), start[i] + np.array([3, 4]))
    assert not x[~go].any()


def test_detection_rules_early_goes_fail_late_ones_count_and_withholding_is_correct():
    def go_at(offset):  # go `offset` steps after the pulse's onset (negative: before it)
        def policy(info, trial):
            if not info["window"]:
                return 0
            start = info["step"] - 5  # steps into the stimulus (fixation lasts 5)
            if trial["ground_truth"] == 0:
                return 1 if start == 0 else 0
            return 1 if start == trial["delay"] / 100 + offset else 0

        return policy

    records, rewards = _play({"id": "Detection", "params": {"delay": 300}}, go_at(-1), 40)
    for record, reward in zip(records, rewards, strict=True):
        assert record["outcome"] == "fail"
        assert reward[-1] == -1.0
    records, rewards = _play({"id": "Detection", "params": {"delay": 300}}, go_at(0), 40)
    go = np.array([r["ground_truth"] for r in records]) == 1
    assert {r["outcome"] for r, g in zip(records, go, strict=True) if g} == {"correct"}
    assert all(x[-1] == 1.0 and len(x) == 5 + 3 + 1 for x, g in zip(rewards, go, strict=True) if g)
    records, rewards = _play("Detection", lambda info, trial: 0, 40)
    for record, reward in zip(records, rewards, strict=True):
        expected = ("correct", 0.0) if record["ground_truth"] == 0 else ("miss", -1.0)
        assert (record["outcome"], reward[-1]) == expected


def test_detection_ceiling_with_a_known_onset_is_the_gaussian_test():
    """One possible onset: the likelihood ratio compares the pulse steps' sum with D/4."""
    for sigma, stim_dur in ((2.0, 100), (3.0, 300)):
        task = neurobench.make_task("Detection", delay=200, stim_dur=stim_dur, sigma=sigma)
        d, sigma_step = stim_dur // 100, sigma / 10
        expected = stats.norm.cdf(0.25 * np.sqrt(d) / sigma_step)
        ceiling = task.ceiling()
        assert ceiling.value == pytest.approx(expected, abs=4 * ceiling.se)
    hard = neurobench.make_task("Detection", sigma=2.5)
    assert hard.chance().value < hard.ceiling().value < neurobench.make_task("Detection").ceiling().value


@pytest.mark.parametrize(
    "params",
    [{"stim_dur": 50}, {"delay": 600}, {"delay": -100}, {"timing": {"stimulus": 100}}, {"sigma": -1.0}],
)
def test_detection_refuses_pulses_it_could_not_show(params):
    with pytest.raises(neurobench.InvalidParameterError):
        neurobench.make_task("Detection", **params)


# -- ToneDetection ------------------------------------------------------------------------
def test_tone_detection_tones_sound_at_their_positions_and_are_named_from_their_onset():
    task = neurobench.make_task("ToneDetection", sigma=0.0)
    assert task.obs_channels.size == 1
    assert task.n_actions == 4
    assert task.periods == ("stimulus",)
    batch = TrialStream(task, 0).take(400)
    condition = batch.conditions["ground_truth"]
    assert set(np.unique(condition)) == {0, 1, 2, 3}
    x = batch.obs[..., 0]
    for k, onset in enumerate((10, 20, 30), start=1):
        trials = condition == k
        assert np.all(np.flatnonzero(x[trials].any(axis=0)) == [onset])
        assert np.all(batch.target[trials, :onset] == 0)
        assert np.all(batch.target[trials, onset:] == k)
    assert not x[condition == 0].any()
    assert not batch.target[condition == 0].any()


def test_tone_detection_rules_naming_too_early_fails_and_silence_is_no_tone():
    def name_at(step):
        return lambda info, trial: (trial["ground_truth"] or 1) if info["step"] == step else 0

    records, rewards = _play("ToneDetection", name_at(35), 60)
    assert all(r["outcome"] == "correct" for r in records if r["ground_truth"] > 0)  # all three tones heard
    assert all(r["outcome"] == "fail" for r in records if r["ground_truth"] == 0)
    records, _ = _play("ToneDetection", name_at(15), 60)  # after the first tone, before the others
    for record in records:
        assert record["outcome"] == ("correct" if record["ground_truth"] == 1 else "fail")
    records, rewards = _play("ToneDetection", lambda info, trial: 0, 60)
    for record, reward in zip(records, rewards, strict=True):
        expected = ("correct", 0.0) if record["ground_truth"] == 0 else ("miss", -0.1)
        assert (record["outcome"], reward[-1]) == expected


def test_tone_detection_ceiling_matches_a_direct_simulation_of_the_observer():
    task = neurobench.make_task("ToneDetection", sigma=3.0)
    s = task.sigma / np.sqrt(task.dt)  # one step per tone: the windows' inputs are the statistics
    rng = np.random.default_rng(11)
    truth = rng.integers(4, size=100_000)
    x = (truth[:, None] == np.arange(1, 4)[None, :]) + s * rng.standard_normal((len(truth), 3))
    scores = np.concatenate([np.zeros((len(truth), 1)), x - 0.5], axis=1)  # log-likelihood ratios * s^2
    direct = np.mean(scores.argmax(axis=1) == truth)
    assert task.ceiling().value == pytest.approx(direct, abs=4 * np.sqrt(direct * (1 - direct) / len(truth)) + 0.003)
    assert task.chance().value == 0.25


@pytest.mark.parametrize(
    "params",
    [{"dt": 100}, {"tone_onsets": [500, 520]}, {"tone_onsets": [500, 1000, 2000]}, {"tone_onsets": []}],
)
def test_tone_detection_refuses_tones_that_could_not_be_told_apart(params):
    with pytest.raises(neurobench.InvalidParameterError):
        neurobench.make_task("ToneDetection", **params)


# -- AnnubesEnv ---------------------------------------------------------------------------
def test_annubes_layout_and_trial_types_follow_the_session():
    task = neurobench.make_task("AnnubesEnv", stimuli={"v": 1, ("a", "v"): 3}, catch_prob=0.25, sigma=0.0)
    assert task.obs_channels.labels() == ["fixation", "start", "a", "v"]
    assert task.stimuli == {"v": 1.0, "a+v": 3.0}
    batch = TrialStream(task, 0).take(20_000)
    catch = batch.conditions["catch"] == 1
    assert catch.mean() == pytest.approx(0.25, abs=0.012)
    both = batch.conditions["stimulus"] == 1
    assert both.mean() == pytest.approx(0.75 * 0.75, abs=0.012)
    stim = _mask(batch, "stimulus")
    a, v = batch.obs[..., 2], batch.obs[..., 3]
    assert np.all(a[both][stim[both]] > 0)
    assert not a[~both].any()
    assert np.all(v[~catch][stim[~catch]] > 0)
    assert set(np.unique(batch.conditions["intensity_v"][~catch])) == {0.8, 0.9, 1.0}
    assert np.all(batch.obs[..., 1][stim] == 1)
    assert np.all(batch.target[catch] == 0)
    assert np.all(batch.target[~catch][stim[~catch]] == 1)


def test_annubes_noise_is_on_every_modality_input():
    task = neurobench.make_task("AnnubesEnv")
    batch = TrialStream(task, 0).take(2000)
    stim = _mask(batch, "stimulus")
    catch = batch.conditions["catch"] == 1
    expected = 0.01 * np.sqrt(2 * 1.0) / 1.0  # NeuroGym's sigma sqrt(2 alpha) / alpha, alpha = dt / tau
    for unit in (2, 3):
        absent = batch.obs[..., unit][catch][stim[catch]]
        assert np.std(absent) == pytest.approx(expected, rel=0.05)
    assert task.noise_std == pytest.approx(expected)


def _runs(flags):
    """Longest run of True along each row."""
    longest = np.zeros(len(flags), dtype=int)
    current = np.zeros(len(flags), dtype=int)
    for column in flags.T:
        current = np.where(column, current + 1, 0)
        longest = np.maximum(longest, current)
    return longest


def test_annubes_max_sequential_holds_within_sessions_and_across_chunks():
    task = neurobench.make_task(
        "AnnubesEnv", stimuli={"a": 1, "v": 1, "a+v": 1}, max_sequential={"v": 2, "catch": 1}, catch_prob=0.4
    )
    assert task.sequential
    stream = SessionStream(task, 3, sessions=4)
    batch = neurobench.core.trials.TrialBatch.concat([stream.chunk(c) for c in range(3)])
    order = np.lexsort((batch.index % SessionStream.SESSION_STRIDE, batch.index // SessionStream.SESSION_STRIDE))
    batch = batch.take(order)
    sessions = 4
    v = (batch.conditions["intensity_v"] > 0).reshape(sessions, -1)
    catch = (batch.conditions["catch"] == 1).reshape(sessions, -1)
    assert _runs(v).max() == 2  # the mapping is applied (NeuroGym ignores its values)
    assert _runs(catch).max() == 1
    a = (batch.conditions["intensity_a"] > 0).reshape(sessions, -1)
    assert _runs(a).max() > 2  # not limited


def test_annubes_blind_chance_with_a_catch_limit_is_the_markov_chains():
    """A catch trial is never followed by another; after a stimulus it comes with 0.7: the
    blind policy goes after a catch and withholds otherwise, scoring (0.7 + 0.7) / 1.7."""
    task = neurobench.make_task("AnnubesEnv", max_sequential={"catch": 1}, catch_prob=0.7)
    chance = task.chance()
    assert chance.kind == "estimate"
    assert chance.value == pytest.approx(1.4 / 1.7, abs=4 * chance.se)
    iid = neurobench.make_task("AnnubesEnv", catch_prob=0.7)
    assert iid.chance().value == pytest.approx(0.7)
    assert iid.chance().kind == "exact"
    assert task.ceiling().kind == "bound"
    assert task.ceiling().value >= chance.value


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.floats(0.05, 0.6),
    st.integers(1, 40),
    st.integers(1, 5),
    st.integers(0, 2**16),
)
def test_annubes_parallel_scan_draws_what_a_trial_by_trial_chain_draws(limit_v, limit_c, catch, m, sessions, seed):
    task = neurobench.make_task(
        "AnnubesEnv",
        stimuli={"a": 1, "v": 2, "a+v": 1},
        max_sequential={"v": limit_v, "catch": limit_c},
        catch_prob=catch,
    )
    types = task.types
    start = np.random.default_rng(seed).integers(types.n_states, size=sessions)
    options, before, end = types.draw(np.random.default_rng(seed), sessions, m, start)
    u = np.random.default_rng(seed).random((sessions, m))
    state = start.copy()
    for t in range(m):  # the reference: one trial after the other
        np.testing.assert_array_equal(before[:, t], state)
        chosen = np.minimum((u[:, t, None] >= types.cumulative[state]).sum(axis=1), types.last[state])
        np.testing.assert_array_equal(options[:, t], chosen)
        assert np.all(types.q[state, chosen] > 0)
        state = types.next[state, chosen]
    np.testing.assert_array_equal(end, state)


def test_annubes_an_answer_skips_to_the_interval_which_is_held():
    node = {"id": "AnnubesEnv", "params": {"timing": {"iti": 300}}}

    def go_then_break(info, trial):
        if info["window"]:
            return 1 if trial["catch"] == 0 else 0
        return 1 if info["step"] >= 15 else 0  # in the interval (after 5 + 10 steps of a catch trial)

    records, rewards = _play(node, go_then_break, 30)
    for record, reward in zip(records, rewards, strict=True):
        assert record["outcome"] == "correct"
        if record["catch"]:
            assert len(reward) == 5 + 10 + 3
            assert reward[-3:] == [pytest.approx(-0.1)] * 3
        else:
            assert len(reward) == 5 + 1 + 3  # the go on the stimulus's first step skips to the interval
            assert reward[5] == 1.0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"stimuli": {"v": 1, "catch": 1}}, "reserved"),
        ({"stimuli": {"v": 1, "CATCH": 1}}, "reserved"),
        ({"stimuli": {"v": 0, "a": 0}}, "positive probability"),
        ({"stimuli": {"v": 1}, "catch_prob": 1.0}, "never show"),
        ({"stimuli": {"v": 1}, "catch_prob": 0.0, "max_sequential": 3}, "cannot be met"),
        ({"stimuli": {"v": 1, "a+v": 1}, "catch_prob": 0.0, "max_sequential": {"v": 5}}, "cannot be met"),
        ({"stimuli": {"v": 0}, "catch_prob": 1.0, "max_sequential": {"catch": 2}}, "cannot be met"),
        ({"max_sequential": {"x": 2}}, "not modalities"),
        ({"max_sequential": 0}, "max_sequential"),
        ({"intensities": {"a": [1.0]}}, "every modality"),
        ({"stimuli": {"start": 1}}, "start"),
        ({"stimuli": {"a+v": 1, ("v", "a"): 1}}, "twice"),
        ({"catch_prob": 1.5}, "catch_prob"),
        ({"tau": 0}, "tau"),
    ],
)
def test_annubes_bad_sessions_are_refused_by_name(params, match):
    with pytest.raises(neurobench.InvalidParameterError, match=match):
        neurobench.make_task("AnnubesEnv", **params)


def test_annubes_parameters_survive_json():
    task = neurobench.make_task(
        "AnnubesEnv", stimuli={("v", "a"): 2, "o": 1}, max_sequential={"o": 3}, intensities=0.5, catch_prob=0.1
    )
    again = neurobench.make_task({"id": "AnnubesEnv-v0", "params": task.params()})
    assert again.params() == task.params()
    assert again.max_sequential == {"a": None, "o": 3, "v": None, "catch": None}
    assert again.intensities == {"a": [0.5], "o": [0.5], "v": [0.5]}
