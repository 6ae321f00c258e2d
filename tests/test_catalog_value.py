"""The value family's NeuroGym ports: EconomicDecisionMaking, PostDecisionWager,
ChangingEnvironment. Conformance over a parameter grid, the rules on hand-built actions,
and reward and transition statistics measured from many sampled trials."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

import neurobench
from neurobench.core.stream import SessionStream, TrialStream
from neurobench.evaluate import evaluate
from neurobench.tasks.value import PADOA_SCHIOPPA_OFFERS, context_belief, side_posterior
from neurobench.testing import check_task

GRID = [
    "EconomicDecisionMaking",
    {"id": "EconomicDecisionMaking", "params": {"b_to_a": 0.5}},  # 2B:1A is a tie
    "PostDecisionWager",
    {"id": "PostDecisionWager", "params": {"sure": 0.55, "sigma": 0.5, "dt": 50}},
    "ChangingEnvironment",
    {"id": "ChangingEnvironment", "params": {"cxt_cue": True}},
    {"id": "ChangingEnvironment", "params": {"cxt_ch_prob": 0.1, "session_trials": 200}},
]


@pytest.mark.parametrize("node", GRID, ids=str)
def test_the_value_tasks_conform(node):
    check_task(node)


def _play(env, choose, seed=0):
    """One trial: ``choose(info)`` gives each step's action; returns its record and rewards."""
    _, info = env.reset(seed=seed)
    rewards = []
    while True:
        _, reward, _, _, info2 = env.step(choose(info))
        rewards.append(reward)
        if "trial" in info2:
            return info2["trial"], rewards
        info = info2


def _at_close(action):
    return lambda info: action if info["window"] == 2 else 0


# -- EconomicDecisionMaking ----------------------------------------------------------------------
def test_offers_pay_the_chosen_juices_value_and_success_is_the_better_offer():
    task = neurobench.make_task("EconomicDecisionMaking")
    batch = TrialStream(task, 0).take(6000)
    start = batch.periods["decision"][0]
    rows = np.arange(batch.n)
    c = batch.conditions
    a_first = c["a_first"].astype(bool)
    expected1 = np.where(a_first, c["n_a"] * 0.22, c["n_b"] * 0.1)
    expected2 = np.where(a_first, c["n_b"] * 0.1, c["n_a"] * 0.22)
    np.testing.assert_allclose(batch.payoff[rows, start, 1], expected1, rtol=1e-6)
    np.testing.assert_allclose(batch.payoff[rows, start, 2], expected2, rtol=1e-6)
    better = np.where(expected2 > expected1, 2, 1)
    np.testing.assert_array_equal(batch.target[rows, start], better)
    np.testing.assert_array_equal(batch.credit[rows, start, better], 1.0)
    # the monkeys' preference at 1A = 2.2B: juice A wins 0B:1A .. 2B:1A, juice B wins from 3B:1A on
    a_wins = (better == 1) == a_first
    for k, (n_b, n_a) in enumerate(PADOA_SCHIOPPA_OFFERS):
        assert np.all(a_wins[c["offer"] == k] == (n_a * 2.2 > n_b)), (n_b, n_a)
    # offer types uniform, juice order a fair coin
    assert stats.chisquare(np.bincount(c["offer"], minlength=9)).pvalue > 1e-3
    assert stats.binomtest(int(a_first.sum()), batch.n).pvalue > 1e-3


def test_offers_are_shown_as_kind_and_amount_during_offer_on_only():
    task = neurobench.make_task("EconomicDecisionMaking")
    batch = TrialStream(task, 1).take(200)
    ch = task.obs_channels
    for i in range(batch.n):
        s, e = (int(x[i]) for x in batch.periods["offer_on"])
        obs = batch.obs[i]
        a_first = bool(batch.conditions["a_first"][i])
        n1 = batch.conditions["n_a"][i] if a_first else batch.conditions["n_b"][i]
        assert np.all(obs[s:e, ch["a1"]] == a_first)
        assert np.all(obs[s:e, ch["b2"]] == a_first)
        assert np.all(obs[s:e, ch["b1"]] == (not a_first))
        assert np.all(obs[s:e, ch["a2"]] == (not a_first))
        np.testing.assert_allclose(obs[s:e, ch["n1"]], n1 / 5)
        assert np.all(obs[:e, ch["fixation"]] == 1)
        assert not obs[e:, :].any()
        assert not obs[:s, 1:].any()


def test_a_choice_is_paid_its_value_and_breaking_fixation_costs_the_abort_penalty():
    task = neurobench.make_task("EconomicDecisionMaking")
    first = TrialStream(task, 5).take(1)
    values = first.conditions["value1"][0], first.conditions["value2"][0]
    for action in (1, 2):
        record, rewards = _play(neurobench.make(task, trials_per_episode=None), _at_close(action), seed=5)
        assert rewards[-1] == pytest.approx(values[action - 1], rel=1e-6)
        assert record["score"] == float(values[action - 1] >= values[2 - action])
    _, rewards = _play(neurobench.make(task, trials_per_episode=None), lambda info: 1, seed=5)
    assert rewards[0] == pytest.approx(-0.1)  # answering during fixation


def test_tied_offers_count_for_either_answer_and_raise_chance_exactly():
    task = neurobench.make_task("EconomicDecisionMaking", b_to_a=0.5)
    assert task.chance().value == pytest.approx((1 + 1 / 9) / 2)
    batch = TrialStream(task, 0).take(3000)
    tie = np.isclose(batch.conditions["value1"], batch.conditions["value2"])
    start = batch.periods["decision"][0][tie]
    assert tie.any()
    assert np.all(batch.credit[np.flatnonzero(tie), start, 1:] == 1.0)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [({"b_to_a": -1}, "b_to_a"), ({"offers": [[1, 2, 3]]}, "offers"), ({"rewards": {"correct": 0}}, "correct")],
)
def test_bad_economic_parameters_are_refused_by_name(params, fragment):
    with pytest.raises(neurobench.InvalidParameterError, match=fragment):
        neurobench.make_task("EconomicDecisionMaking", **params)


# -- PostDecisionWager ---------------------------------------------------------------------------
def test_the_sure_target_is_offered_on_half_the_trials_pre_sure_into_the_delay():
    task = neurobench.make_task("PostDecisionWager")
    batch = TrialStream(task, 0).take(4000)
    wager = batch.conditions["wager"].astype(bool)
    assert stats.binomtest(int(wager.sum()), batch.n).pvalue > 1e-3
    sure = batch.obs[..., task.obs_channels["sure"].start]
    onset = np.argmax(sure > 0, axis=1)
    delay_start = batch.periods["delay"][0]
    after = (onset - delay_start)[wager] * task.dt
    assert after.min() >= 500
    assert after.max() < 750
    assert not sure[~wager].any()
    rows = np.flatnonzero(wager)
    assert np.all(sure[rows, batch.length[rows] - 1] == 1)  # still on at the decision
    # the stimulus lasts a truncated exponential of mean 180 ms on [100, 900), floored to dt
    duration = (batch.periods["stimulus"][1] - batch.periods["stimulus"][0]) * task.dt
    assert duration.min() >= 100
    assert duration.max() < 900
    expected = np.mean(np.floor(stats.truncexpon(b=800 / 180, loc=100, scale=180).rvs(200_000, random_state=0) / 100))
    assert np.mean(duration / 100) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("seed", range(6))
def test_directions_pay_by_the_truth_and_the_sure_bet_pays_only_when_offered(seed):
    """NeuroGym compared the action with the ground-truth index: here the target direction
    pays for either ground truth, the sure bet 0.7 (score 0.7) when offered, else the penalty."""
    task = neurobench.make_task("PostDecisionWager")
    trial = TrialStream(task, seed).take(1)
    truth, wager = int(trial.conditions["ground_truth"][0]), bool(trial.conditions["wager"][0])
    make = lambda: neurobench.make(task, trials_per_episode=None)  # noqa: E731
    record, rewards = _play(make(), _at_close(1 + truth), seed)
    assert (record["outcome"], rewards[-1], record["score"]) == ("correct", 1.0, 1.0)
    record, rewards = _play(make(), _at_close(2 - truth), seed)
    assert (record["outcome"], rewards[-1], record["score"]) == ("fail", 0.0, 0.0)
    record, rewards = _play(make(), _at_close(3), seed)
    assert rewards[-1] == pytest.approx(0.7 if wager else -0.1)
    assert record["score"] == pytest.approx(0.7 if wager else 0.0)


def test_the_ideal_wager_reads_confidence_like_the_monkeys():
    """Kiani & Shadlen's signature: sure choices fall with motion strength, and choices made
    when the sure target was waived are more accurate than forced ones."""
    task = neurobench.make_task("PostDecisionWager")
    records = evaluate(task.ideal_observer(), task, seed=3, n_trials=12000)
    wager = records["wager"].astype(bool)
    took_sure = records["response"] == 3
    rate = records[wager].groupby("coh")["response"].apply(lambda r: np.mean(r == 3))
    assert rate.iloc[0] > 0.5
    assert rate.iloc[-1] < 0.02
    assert np.all(np.diff(rate.to_numpy()) <= 0.02)
    weak = records["coh"].isin([3.2, 6.4, 12.8])
    waived = records[weak & wager & ~took_sure]
    forced = records[weak & ~wager]
    assert (waived["outcome"] == "correct").mean() > (forced["outcome"] == "correct").mean() + 0.03
    assert not took_sure[~wager].any()


def test_the_wager_ceiling_matches_a_direct_simulation_of_the_optimal_policy():
    task = neurobench.make_task("PostDecisionWager")
    rng = np.random.default_rng(1)
    m = 400_000
    steps = task.timing["stimulus"].steps(rng, m, task.dt)
    coh = np.asarray(task.cohs)[rng.integers(len(task.cohs), size=m)] / 100
    sigma = task.noise_std
    d = steps * coh + sigma * np.sqrt(2 * steps) * rng.standard_normal(m)  # truth: the second direction
    p = side_posterior(d, steps, np.asarray(task.cohs) / 100, sigma)
    right = np.where(p > 0.5, 1.0, np.where(p == 0.5, 0.5, 0.0))
    wager = rng.random(m) < 0.5
    q = np.maximum(p, 1 - p)
    score = np.where(wager & (q < 0.7), 0.7, right)
    assert task.ceiling().value == pytest.approx(score.mean(), abs=4 * score.std() / np.sqrt(m) + 2e-3)
    assert task.chance().value == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [({"sure": 1.5}, "sure"), ({"timing": {"pre_sure": ("uniform", (500, 1500))}}, "pre_sure"), ({"cohs": []}, "cohs")],
)
def test_bad_wager_parameters_are_refused_by_name(params, fragment):
    with pytest.raises(neurobench.InvalidParameterError, match=fragment):
        neurobench.make_task("PostDecisionWager", **params)


# -- ChangingEnvironment -------------------------------------------------------------------------
def _sessions(task, sessions, chunks, seed=0):
    stream = SessionStream(task, seed, sessions=sessions)
    parts = [stream.chunk(c) for c in range(chunks)]
    m = stream.per_session
    return np.concatenate([p.conditions["context"].reshape(sessions, m) for p in parts], axis=1), np.concatenate(
        [p.conditions["ground_truth"].reshape(sessions, m) for p in parts], axis=1
    )


def test_the_context_switches_with_its_probability_across_chunks_and_starts_at_random():
    task = neurobench.make_task("ChangingEnvironment", cxt_ch_prob=0.1)
    context, answer = _sessions(task, sessions=64, chunks=6)
    switches = np.diff(context, axis=1) != 0
    n = switches.size
    assert stats.binomtest(int(switches.sum()), n, 0.1).pvalue > 1e-3
    m = SessionStream(task, 0, sessions=64).per_session
    at_boundary = switches[:, m - 1 :: m]  # between one chunk's last trial and the next one's first
    assert stats.binomtest(int(at_boundary.sum()), at_boundary.size, 0.1).pvalue > 1e-3
    assert 16 < context[:, 0].sum() < 48  # each session starts in a random context
    assert np.all((answer >= 1 + 2 * context) & (answer <= 2 + 2 * context))


def test_the_answer_is_the_side_in_the_context_and_the_stimulus_shows_the_side():
    task = neurobench.make_task("ChangingEnvironment", sigma=0.0)
    batch = task.sample(np.random.default_rng(0), 2000)
    c = batch.conditions
    np.testing.assert_array_equal(c["ground_truth"], 1 + c["side"] + 2 * c["context"])
    rows = np.arange(batch.n)
    start = batch.periods["stimulus"][0]
    shown = batch.obs[rows, start][:, task.obs_channels["stimulus"]]
    side_unit = shown[rows, c["side"]]
    np.testing.assert_allclose(side_unit, (1 + c["coh"] / 100) / 2, rtol=1e-6)
    np.testing.assert_allclose(shown[rows, 1 - c["side"]], (1 - c["coh"] / 100) / 2, rtol=1e-6)


def test_the_context_cue_sits_on_its_own_input_and_the_fixation_input_gives_nothing_away():
    """NeuroGym wrote the left stimulus into the fixation input when the cue was on."""
    task = neurobench.make_task("ChangingEnvironment", cxt_cue=True, cxt_ch_prob=0.2)
    batch = task.sample(np.random.default_rng(0), 3000)
    ch = task.obs_channels
    assert ch.labels() == ["context", "fixation", "stimulus[0]", "stimulus[1]"]
    for i in range(0, batch.n, 97):
        (f0, f1), (s0, _), (d0, d1) = ((int(a[i]), int(b[i])) for a, b in (batch.periods[p] for p in task.periods))
        obs, context = batch.obs[i], batch.conditions["context"][i]
        assert np.all(obs[f0:f1, ch["fixation"]] == 1)
        assert np.all(obs[s0:, ch["fixation"]] == 0)
        assert np.all(obs[s0:d1, ch["context"]] == context)
        assert np.all(obs[f0:f1, ch["context"]] == 0)
        assert not obs[d0:d1, ch["stimulus"]].any()
    stim = batch.obs[np.arange(batch.n), batch.periods["stimulus"][0]][:, ch["stimulus"]]
    gap = (stim[:, 1] - stim[:, 0]) * np.where(batch.conditions["side"] == 1, 1, -1)
    assert gap.mean() == pytest.approx(np.mean(batch.conditions["coh"]) / 100, abs=0.02)


def test_the_tracker_learns_the_context_only_from_its_answers_outcomes():
    """With frequent switches the blind tracker's answers follow the context (well above the
    0.25 of answering in a fixed context) and the ideal observer's even better."""
    task = neurobench.make_task("ChangingEnvironment", cxt_ch_prob=0.05, session_trials=300)
    blind = evaluate(task.blind_policy(), task, seed=2, n_trials=3000)
    in_context = ((blind["response"] - 1) // 2 == blind["context"]).mean()
    assert 0.6 < in_context < 0.98
    assert blind["score"].mean() == pytest.approx(task.chance().value, abs=0.03)
    ideal = evaluate(task.ideal_observer(), task, seed=2, n_trials=3000)
    assert ((ideal["response"] - 1) // 2 == ideal["context"]).mean() > in_context


@settings(max_examples=200, deadline=None)
@given(
    belief=st.floats(0, 1),
    chosen=st.integers(0, 1),
    confidence=st.floats(0.5, 1),
    p_switch=st.floats(0, 0.5),
)
@example(belief=0.0, chosen=0, confidence=0.9999999999999999, p_switch=0.5)  # 1 + 1e-16 - 1 == 0 once
def test_context_beliefs_follow_bayes_rule(belief, chosen, confidence, p_switch):
    b = np.array([belief])
    c = np.array([chosen])
    q = np.array([confidence])
    after_right = context_belief(b, c, np.array([True]), q, p_switch)[0]
    after_error = context_belief(b, c, np.array([False]), q, p_switch)[0]
    in_chosen = lambda x: x if chosen == 1 else 1 - x  # noqa: E731
    assert 0 <= after_error <= 1
    assert 0 <= after_right <= 1
    assert in_chosen(after_right) == pytest.approx(1 - p_switch)  # a right answer proves the context
    prior = in_chosen(belief) * (1 - p_switch) + (1 - in_chosen(belief)) * p_switch
    assert in_chosen(after_error) <= prior + 1e-12  # an error never speaks for the context answered in
    surer = context_belief(b, c, np.array([False]), np.minimum(q + 0.1, 1.0), p_switch)[0]
    assert in_chosen(surer) <= in_chosen(after_error) + 1e-12  # the surer the side, the more an error blames it


@pytest.mark.parametrize(
    ("params", "fragment"), [({"cxt_ch_prob": 1.5}, "cxt_ch_prob"), ({"session_trials": 0}, "session_trials")]
)
def test_bad_context_parameters_are_refused_by_name(params, fragment):
    with pytest.raises(neurobench.InvalidParameterError, match=fragment):
        neurobench.make_task("ChangingEnvironment", **params)
