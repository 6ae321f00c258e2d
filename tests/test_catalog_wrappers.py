"""RandomGroundTruth and TrialHistoryV2 (NeuroGym's wrappers/block.py) and the map from
NeuroGym 2.3.1's wrappers to NeuroBench's."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobench
from neurobench.core.stream import TrialStream
from neurobench.testing import check_task
from neurobench.wrappers.ground_truth import TrialHistoryV2, compose_prefix

GRID = [
    {"id": "RandomGroundTruth", "params": {"p": [0.8, 0.2]}, "task": "PerceptualDecisionMaking"},
    {"id": "RandomGroundTruth", "params": {"p": [0.7, 0.3]}, "task": "GoNogo"},
    {
        "id": "RandomGroundTruth",
        "params": {"p": [0.1, 0.3, 0.6]},
        "task": {"id": "PerceptualDecisionMaking", "params": {"dim_ring": 3}},
    },
    {
        "id": "ScheduleAttr",
        "params": {"attribute": "p", "values": [[0.8, 0.2], [0.2, 0.8]], "block_length": 90},
        "task": {"id": "RandomGroundTruth", "task": "PerceptualDecisionMaking"},
    },
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: neurobench.make_task(n).name)
def test_random_ground_truth_conforms(node):
    check_task(node)


@pytest.mark.parametrize(
    "node",
    [
        {"id": "TrialHistoryV2", "params": {"probs": [[0.9, 0.1], [0.3, 0.7]], "session_trials": 200}, "task": "IBL"},
        {
            "id": "TrialHistoryV2",
            "params": {"probs": [[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]]},
            "task": {"id": "PerceptualDecisionMaking", "params": {"dim_ring": 3}},
        },
    ],
    ids=["two", "three"],
)
def test_trial_history_v2_conforms(node):
    check_task(node)


# -- RandomGroundTruth -----------------------------------------------------------------------------
def test_random_ground_truth_draws_answers_with_its_probabilities_and_keeps_the_trials():
    task = neurobench.make_task(
        {"id": "RandomGroundTruth", "params": {"p": [0.8, 0.2]}, "task": "PerceptualDecisionMaking"}
    )
    batch = TrialStream(task, 0).take(20_000)
    assert batch.conditions["ground_truth"].mean() == pytest.approx(0.2, abs=0.01)
    inner = TrialStream(neurobench.make_task("PerceptualDecisionMaking"), 0).take(20_000)
    for k in (0, 1):  # trials of an answer look like the inner task's trials of that answer
        mine, theirs = (b.conditions["ground_truth"] == k for b in (batch, inner))
        np.testing.assert_allclose(
            np.bincount(np.searchsorted([0, 6.4, 12.8, 25.6, 51.2], batch.conditions["coh"][mine])) / mine.sum(),
            np.bincount(np.searchsorted([0, 6.4, 12.8, 25.6, 51.2], inner.conditions["coh"][theirs])) / theirs.sum(),
            atol=0.03,
        )
    assert not task.sequential  # independent trials: random access kept
    chance = task.chance()
    assert chance.kind == "exact"
    assert chance.value == pytest.approx(0.8)
    assert task.ceiling().value > neurobench.make_task("PerceptualDecisionMaking").ceiling().value  # the prior helps


def test_schedule_attr_over_p_is_neurogyms_ibl20_recipe():
    """NeuroGym's ibl20: ScheduleAttr switching RandomGroundTruth's p every 90 trials."""
    task = neurobench.make_task(
        {
            "id": "ScheduleAttr",
            "params": {"attribute": "p", "values": [[0.8, 0.2], [0.2, 0.8]], "block_length": 90},
            "task": {"id": "RandomGroundTruth", "task": "PerceptualDecisionMaking"},
        }
    )
    batch = TrialStream(task, 1).take(90 * 40)
    answers = batch.conditions["ground_truth"].reshape(40, 90).mean(axis=1)
    np.testing.assert_array_equal(batch.conditions["block_value"].reshape(40, 90)[:, 0], np.arange(40) % 2)
    assert answers[0::2].mean() == pytest.approx(0.2, abs=0.03)
    assert answers[1::2].mean() == pytest.approx(0.8, abs=0.03)
    # its chance counts constant answers only (ScheduleAttr's): the ibl20 task is built on a block prior instead
    assert task.chance().value < neurobench.make_task("PerceptualDecisionMaking.ibl20").chance().value - 0.2


def test_random_ground_truth_refuses_bad_probabilities():
    for p, match in (([0.5, 0.6], "summing to 1"), ([1.0], "2 probabilities"), ([[0.5, 0.5]], "one row")):
        with pytest.raises(neurobench.InvalidParameterError, match=match):
            neurobench.make_task({"id": "RandomGroundTruth", "params": {"p": p}, "task": "PerceptualDecisionMaking"})


# -- TrialHistoryV2 ------------------------------------------------------------------------------
MATRIX = np.array([[0.9, 0.1], [0.3, 0.7]])


def test_trial_history_v2_is_a_markov_chain_with_its_matrix():
    task = TrialHistoryV2(neurobench.make_task("PerceptualDecisionMaking"), probs=MATRIX.tolist())
    wanted, _, carry = task.schedule(np.random.default_rng(0), 400, 300, None)
    previous, following = wanted[:, :-1].ravel(), wanted[:, 1:].ravel()
    for i in (0, 1):
        assert np.mean(following[previous == i] == 0) == pytest.approx(MATRIX[i, 0], abs=0.01)
    assert wanted[:, 0].mean() == pytest.approx(MATRIX.mean(axis=0)[1], abs=0.05)  # after a uniform "previous"
    np.testing.assert_array_equal(carry, wanted[:, -1])
    batch = task.sample_sessions(np.random.default_rng(0), 400, 300, None)[0]
    np.testing.assert_array_equal(batch.conditions["ground_truth"].reshape(400, 300), wanted)


def test_trial_history_v2_chance_is_exact():
    task = TrialHistoryV2(neurobench.make_task("PerceptualDecisionMaking"), probs=MATRIX.tolist(), session_trials=50)
    wanted, _, _ = task.schedule(np.random.default_rng(3), 20_000, 50, None)
    predictor, rows = task.predictor(), np.arange(20_000)
    state, hits = predictor.init(20_000), []
    for t in range(50):
        hits.append(predictor.guess(state, rows) == wanted[:, t])
        predictor.observe(state, rows, wanted[:, t])
    played = np.mean(hits)
    stationary = np.array([0.75, 0.25])  # of MATRIX; long sessions tend to pi . max rows = 0.85
    assert task.chance().kind == "exact"
    assert task.chance().value == pytest.approx(played, abs=0.004)  # 10^6 played trials: se ~ 0.0004
    long = TrialHistoryV2(neurobench.make_task("PerceptualDecisionMaking"), probs=MATRIX.tolist(), session_trials=5000)
    assert long.chance().value == pytest.approx(stationary @ MATRIX.max(axis=1), abs=2e-3)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 5), m=st.integers(1, 70), seed=st.integers(0, 2**16))
def test_the_prefix_scan_composes_the_trial_maps_in_order(k, m, seed):
    rng = np.random.default_rng(seed)
    steps = rng.integers(k, size=(3, m, k))
    composed = compose_prefix(steps)
    start = rng.integers(k, size=3)
    for s in range(3):
        x = start[s]
        for t in range(m):
            x = steps[s, t, x]
            assert composed[s, t, start[s]] == x


def test_trial_history_v2_refuses_a_wrong_matrix():
    inner = neurobench.make_task("PerceptualDecisionMaking")
    with pytest.raises(neurobench.InvalidParameterError, match="2 x 2"):
        TrialHistoryV2(inner, probs=[[1.0, 0.0]])
    with pytest.raises(neurobench.InvalidParameterError, match="summing to 1"):
        TrialHistoryV2(inner, probs=[[0.5, 0.4], [0.5, 0.5]])


# -- NeuroGym 2.3.1's wrappers and where they are in NeuroBench ----------------------------------
NEUROGYM_WRAPPERS = {  # NeuroGym name -> NeuroBench module:attribute (None: no counterpart)
    "Monitor": "neurobench.wrappers.monitor:Monitor",
    "Noise": "neurobench.wrappers.noise:Noise",
    "PassReward": "neurobench.wrappers.feedback:PassReward",
    "PassAction": "neurobench.wrappers.feedback:PassAction",
    "ReactionTime": "neurobench.wrappers.reaction_time:ReactionTime",
    "SideBias": "neurobench.wrappers.history:SideBias",
    "RandomGroundTruth": "neurobench.wrappers.ground_truth:RandomGroundTruth",
    "ScheduleAttr": "neurobench.wrappers.schedule:ScheduleAttr",
    "ScheduleEnvs": "neurobench.wrappers.schedule:MultiTask",
    "MultiEnvs": "neurobench.wrappers.schedule:MultiTask",  # one task per trial with an env-index (rule) input
    "TrialHistoryV2": "neurobench.wrappers.ground_truth:TrialHistoryV2",
}


@pytest.mark.parametrize("neurogym_name", sorted(NEUROGYM_WRAPPERS))
def test_every_neurogym_wrapper_has_a_neurobench_counterpart(neurogym_name):
    module, attribute = NEUROGYM_WRAPPERS[neurogym_name].split(":")
    assert hasattr(importlib.import_module(module), attribute)


def test_the_registered_modifiers_include_random_ground_truth():
    spec = neurobench.spec("RandomGroundTruth")
    assert spec.kind == "modifier"
    assert spec.factory.__name__ == "RandomGroundTruth"


def test_reaction_time_urgency_is_a_reward_per_window_step_not_a_change_of_outcome():
    plain = neurobench.make_task({"id": "ReactionTime", "task": "PerceptualDecisionMaking"})
    urgent = neurobench.make_task(
        {"id": "ReactionTime", "params": {"urgency": -0.01}, "task": "PerceptualDecisionMaking"}
    )
    from neurobench.agents.reference import ConstantAnswers
    from neurobench.evaluate import evaluate

    a = evaluate(ConstantAnswers([1]), plain, seed=0, n_trials=200)  # answers as the window closes
    b = evaluate(ConstantAnswers([1]), urgent, seed=0, n_trials=200)
    assert list(a["outcome"]) == list(b["outcome"])
    steps = b["rt"] / plain.dt  # window steps until the answer, the answering one included
    assert steps.min() == 20  # the whole 2000 ms stimulus
    np.testing.assert_allclose(b["reward"], a["reward"] - 0.01 * steps, atol=1e-9)
    with pytest.raises(neurobench.InvalidParameterError, match="urgency must be a finite number"):
        neurobench.make_task({"id": "ReactionTime", "params": {"urgency": "fast"}, "task": "PerceptualDecisionMaking"})
