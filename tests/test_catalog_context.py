"""The context family: ContextDecisionMaking (implicit and explicit context, the go-cue
option) and MultiSensoryIntegration — layouts, trial statistics, rules step by step, and
the ceilings against independent computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped]

import neurobench
from neurobench.core.stream import TrialStream
from neurobench.tasks.context import _mixture_log_posterior, _tuning
from neurobench.testing import check_task

GRID = [
    "ContextDecisionMaking",
    "ContextDecisionMakingExplicit",
    {"id": "ContextDecisionMaking", "params": {"dim_ring": 3, "impl_context_modality": 1}},
    {"id": "ContextDecisionMakingExplicit", "params": {"go_cue": True, "sigma": 2.0, "dt": 50}},
    {"id": "ContextDecisionMakingExplicit", "params": {"dim_ring": 4, "cohs": [10, 40]}},
    "MultiSensoryIntegration",
    {"id": "MultiSensoryIntegration", "params": {"dim_ring": 4}},
    {"id": "MultiSensoryIntegration", "params": {"sigma": 0.5, "dt": 50}},
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: str(n))
def test_the_context_tasks_pass_the_conformance_kit(node):
    check_task(node)


def _period_mask(batch, name):
    start, end = batch.periods[name]
    t = np.arange(batch.max_length)[None, :]
    return (t >= start[:, None]) & (t < end[:, None])


def _play(node, policy, trials, seed=0):
    """Records and per-trial rewards of ``policy(info)`` over the first ``trials`` trials."""
    env = neurobench.make(node, trials_per_episode=None)
    _, info = env.reset(seed=seed)
    records, rewards, current = [], [], []
    while len(records) < trials:
        _, reward, _, _, info2 = env.step(policy(info))
        current.append(reward)
        info = info2
        if "trial" in info:
            records.append(info["trial"])
            rewards.append(current)
            current = []
    return records, rewards


def test_neurogym_layouts_implicit_has_no_context_inputs_and_explicit_two():
    implicit, explicit = (
        neurobench.make_task("ContextDecisionMaking"),
        neurobench.make_task("ContextDecisionMakingExplicit"),
    )
    assert implicit.obs_channels.labels() == [
        "fixation",
        "stimulus_mod1[0]",
        "stimulus_mod1[1]",
        "stimulus_mod2[0]",
        "stimulus_mod2[1]",
    ]
    assert explicit.obs_channels.labels()[-2:] == ["context[0]", "context[1]"]
    assert implicit.n_actions == explicit.n_actions == 3
    assert implicit.periods == ("fixation", "stimulus", "delay", "decision")
    assert explicit.use_expl_context
    assert not implicit.use_expl_context
    msi = neurobench.make_task("MultiSensoryIntegration", dim_ring=3)
    assert msi.obs_channels.widths() == {"fixation": 1, "stimulus_mod1": 3, "stimulus_mod2": 3}
    assert msi.periods == ("fixation", "stimulus", "decision")


@pytest.mark.parametrize("dim_ring", [2, 5])
def test_only_the_relevant_modality_points_to_the_answer(dim_ring):
    task = neurobench.make_task("ContextDecisionMakingExplicit", sigma=0.0, dim_ring=dim_ring)
    batch = TrialStream(task, 3).take(4000)
    stim = _period_mask(batch, "stimulus")
    first = np.argmax(stim, axis=1)
    rows = np.arange(batch.n)
    obs = batch.obs[rows, first]
    pointed = [obs[:, task.obs_channels[f"stimulus_mod{m}"]].argmax(axis=1) + 1 for m in (1, 2)]
    context = batch.conditions["context"]
    truth = batch.conditions["ground_truth"]
    relevant = np.where(context == 0, pointed[0], pointed[1])
    irrelevant = np.where(context == 0, pointed[1], pointed[0])
    np.testing.assert_array_equal(relevant, truth)
    agree = np.mean(irrelevant == truth)  # the other modality's direction is drawn independently
    assert abs(agree - 1 / dim_ring) < 4 * np.sqrt(1 / dim_ring * (1 - 1 / dim_ring) / batch.n)
    np.testing.assert_array_equal(obs[:, task.obs_channels["context"]].argmax(axis=1), context)
    assert 0.47 < np.mean(context) < 0.53
    swing = np.abs(obs[:, task.obs_channels["stimulus_mod1"]] - 0.5).max(axis=1) * 200
    np.testing.assert_allclose(swing, batch.conditions["coh_1"], atol=1e-4)


def test_the_implicit_form_always_uses_its_modality():
    task = neurobench.make_task("ContextDecisionMaking", impl_context_modality=1, sigma=0.0)
    batch = TrialStream(task, 0).take(500)
    assert np.all(batch.conditions["context"] == 1)
    np.testing.assert_array_equal(batch.conditions["coh"], batch.conditions["coh_2"])


def test_neurogym_shows_no_go_cue_and_the_option_restores_the_experiments():
    plain = TrialStream(neurobench.make_task("ContextDecisionMakingExplicit"), 0).take(200)
    cued_task = neurobench.make_task("ContextDecisionMakingExplicit", go_cue=True)
    cued = TrialStream(cued_task, 0).take(200)
    fix = slice(0, 1)
    for period, plain_on, cued_on in (("fixation", 1, 1), ("stimulus", 0, 1), ("delay", 0, 1), ("decision", 0, 0)):
        assert np.all(plain.obs[..., fix][_period_mask(plain, period)] == plain_on), period
        assert np.all(cued.obs[..., fix][_period_mask(cued, period)] == cued_on), period
    context = cued_task.obs_channels["context"]
    decision = _period_mask(plain, "decision")
    assert np.all(plain.obs[..., context][decision].sum(axis=1) == 1)  # NeuroGym: the context stays on
    assert np.all(cued.obs[..., context][_period_mask(cued, "decision")] == 0)  # off with the fixation point
    assert cued_task.hold_periods == ("fixation", "stimulus", "delay")


def test_answers_before_the_decision_do_not_count_and_breaking_fixation_costs():
    def early(info):  # answer 1 from the stimulus on, then the truth in the decision
        return int(info["target"]) if info["window"] else (1 if info["step"] >= 3 else 0)

    records, rewards = _play("ContextDecisionMaking", early, 40)
    # answers in stimulus and delay are free and ignored: every trial runs to its decision
    assert {r["answer"] for r in records} == {1, 2}
    assert all(r["outcome"] == "correct" for r in records)
    assert all(len(x) >= 3 + 7 + 3 + 1 and sum(x) == pytest.approx(1.0) for x in rewards)

    def breaker(info):
        return int(info["target"]) if info["window"] else (1 if info["step"] == 4 else 0)

    _, rewards = _play({"id": "ContextDecisionMaking", "params": {"go_cue": True}}, breaker, 5)
    assert all(x[4] == pytest.approx(-0.1) for x in rewards)  # step 4 is in the stimulus: held with the go cue
    records, _ = _play({"id": "ContextDecisionMaking", "params": {"go_cue": True, "abort": True}}, breaker, 5)
    assert all(r["outcome"] == "abort" for r in records)
    records, _ = _play({"id": "ContextDecisionMaking", "params": {"abort": True}}, breaker, 5)
    assert not any(r["outcome"] == "abort" for r in records)  # NeuroGym form: fixation held only in fixation


def test_the_two_choice_ceiling_is_the_gaussian_formula_on_the_relevant_modality():
    for params in ({}, {"sigma": 2.0, "dt": 50}, {"cohs": [20.0]}):
        task = neurobench.make_task("ContextDecisionMakingExplicit", **params)
        n = task.timing["stimulus"].value // task.dt
        sigma_step = task.sigma / np.sqrt(task.dt)
        coh = np.asarray(task.cohs) / 100
        expected = np.mean(stats.norm.cdf(coh * np.sqrt(n / 2) / sigma_step))
        assert task.ceiling().kind == "exact"
        assert task.ceiling().value == pytest.approx(expected, abs=1e-9)
    assert getattr(neurobench.make_task("ContextDecisionMakingExplicit"), "evidence_weights", None) is None
    weights = neurobench.make_task("ContextDecisionMaking", impl_context_modality=1).evidence_weights()
    assert np.all(weights[1:3] == 0)
    assert np.all(weights[3:5] != 0)


def test_the_explicit_observer_reads_the_context_and_one_that_ignores_it_loses_half():
    from neurobench.evaluate import evaluate
    from neurobench.tasks.context import ContextObserver

    task = neurobench.make_task("ContextDecisionMakingExplicit", sigma=0.5)
    ceiling, trials = task.ceiling().value, 4000
    ideal = evaluate(ContextObserver(), task, seed=5, n_trials=trials)["score"].mean()
    assert ideal == pytest.approx(ceiling, abs=4 * np.sqrt(0.25 / trials))
    blind_to_context = ContextObserver()
    blind_to_context.prepare(neurobench.make_task("ContextDecisionMaking", sigma=0.5))  # always reads modality 1
    score = evaluate(blind_to_context, task, seed=5, n_trials=trials, prepare=False)["score"].mean()
    assert score == pytest.approx((ceiling + 0.5) / 2, abs=4 * np.sqrt(0.25 / trials))


def test_multisensory_both_modalities_point_to_the_answer_and_share_the_coherence():
    task = neurobench.make_task("MultiSensoryIntegration", sigma=0.0, dim_ring=4)
    batch = TrialStream(task, 1).take(3000)
    first = np.argmax(_period_mask(batch, "stimulus"), axis=1)
    obs = batch.obs[np.arange(batch.n), first]
    truth = batch.conditions["ground_truth"]
    shares = []
    for m in (1, 2):
        units = obs[:, task.obs_channels[f"stimulus_mod{m}"]]
        shares.append((units[np.arange(batch.n), truth] - 0.5) * 200)
        strong = shares[-1] > 1e-3
        np.testing.assert_array_equal(units.argmax(axis=1)[strong], truth[strong])
    np.testing.assert_allclose(shares[0] + shares[1], batch.conditions["coh"], atol=1e-3)
    np.testing.assert_allclose(shares[0], batch.conditions["coh"] * batch.conditions["coh_prop"], atol=1e-3)
    assert stats.kstest(batch.conditions["coh_prop"], "uniform").pvalue > 1e-3


def test_multisensory_two_choice_ceiling_is_phi_of_the_summed_evidence():
    for params in ({}, {"sigma": 0.5, "dt": 50}):
        task = neurobench.make_task("MultiSensoryIntegration", **params)
        n = task.timing["stimulus"].value // task.dt
        sigma_step = task.sigma / np.sqrt(task.dt)
        expected = np.mean(stats.norm.cdf(np.asarray(task.cohs) * np.sqrt(n) / (200 * sigma_step)))
        assert task.ceiling().value == pytest.approx(expected, abs=1e-9)
    # integrating beats either modality alone: one modality carries coh * split on average half
    alone = np.mean(stats.norm.cdf(np.asarray(task.cohs) / 2 / 100 * np.sqrt(n / 2) / sigma_step))
    assert task.ceiling().value > alone


@settings(max_examples=50, deadline=None)
@given(
    st.floats(-30, 30),
    st.floats(-30, 30),
    st.integers(1, 20),
    st.floats(0.05, 3.0),
)
def test_with_two_choices_the_mixture_posterior_is_the_sign_of_the_summed_evidence(d1, d2, n, sigma):
    s1, s2 = np.array([[d1, -d1]]), np.array([[d2, -d2]])  # matched-filter scores of choices 0 and 1
    posterior = _mixture_log_posterior(s1, s2, np.array([n]), (5.0, 15.0, 50.0), 2, sigma)
    if abs(d1 + d2) > 1e-6:
        assert posterior.argmax() == (0 if d1 + d2 > 0 else 1)


def test_on_a_ring_the_mixture_observer_is_no_worse_than_summing_the_modalities():
    """Paired on the same draws: the Bayes observer against the plain sum readout."""
    rng = np.random.default_rng(7)
    dim, sigma_step, draws = 4, 0.6, 40_000
    tuning = _tuning(dim)
    n = np.full(draws, 7.0)
    c = np.asarray((5.0, 15.0, 50.0))[rng.integers(3, size=draws)]
    split = rng.random(draws)
    scores = [
        (n * c * share / 200)[:, None] * (tuning.T @ tuning)[0][None, :]
        + sigma_step * np.sqrt(n)[:, None] * (rng.standard_normal((draws, dim)) @ tuning)
        for share in (split, 1 - split)
    ]
    bayes = _mixture_log_posterior(scores[0], scores[1], n, (5.0, 15.0, 50.0), dim, sigma_step).argmax(axis=1) == 0
    summed = (scores[0] + scores[1]).argmax(axis=1) == 0
    assert bayes.mean() - summed.mean() > -2 * np.sqrt(np.mean(bayes != summed) / draws)


@pytest.mark.parametrize(
    "params",
    [
        {"impl_context_modality": 2},
        {"impl_context_modality": True},
        {"use_expl_context": True, "impl_context_modality": 1},
        {"use_expl_context": "yes"},
        {"go_cue": 1},
        {"dim_ring": 1},
        {"cohs": []},
        {"sigma": -1.0},
    ],
)
def test_bad_parameters_are_refused_by_name(params):
    with pytest.raises(neurobench.InvalidParameterError, match=next(iter(params))):
        neurobench.make_task("ContextDecisionMaking", **params)
