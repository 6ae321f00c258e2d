"""The IBL tasks (basic and biased blocks) and NeuroGym's perceptual collections (ibl20,
roitman02): conformance, the protocol's statistics, the block filter's exactness, rules."""

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import neurobench
from neurobench.agents.reference import IdealObserver
from neurobench.core.stream import SessionStream, TrialStream
from neurobench.evaluate import evaluate
from neurobench.tasks.perceptual import BlockPrior, InnerIdealObserver
from neurobench.testing import check_task
from neurobench.wrappers.history import BlockFilter

GRID = [
    "IBL",
    {"id": "IBL", "params": {"dt": 50, "timing": {"stimulus": 300}, "sigma": 0.5}},
    "IBL_Block",
    {
        "id": "IBL_Block",
        "params": {
            "probs": [[0.6, 0.4], [0.4, 0.6], [0.5, 0.5]],
            "block_dur": ["uniform", [10, 30]],
            "unbiased_trials": 0,
            "session_trials": 200,
        },
    },
    "PerceptualDecisionMaking.ibl20",
    "PerceptualDecisionMaking.roitman02",
    {"id": "PerceptualDecisionMaking.roitman02", "params": {"end_on_stimulus": False}},
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: str(n)[:70])
def test_ibl_tasks_and_collections_conform(node):
    check_task(node)


# -- the basic task ----------------------------------------------------------------------------
def test_ibl_trials_follow_the_trained_basic_task():
    batch = neurobench.make_task("IBL", sigma=0.0).sample(np.random.default_rng(0), 90_000)
    coh, side = batch.conditions["coh"], batch.conditions["ground_truth"]
    freq = Counter(coh.tolist())
    for c in (100.0, 25.0, 12.5, 6.25):  # signed contrasts uniform: 0 % half as often
        assert freq[c] / len(coh) == pytest.approx(2 / 9, abs=0.006)
    assert freq[0.0] / len(coh) == pytest.approx(1 / 9, abs=0.004)
    assert side.mean() == pytest.approx(0.5, abs=0.006)
    assert batch.length.max() == 1  # one 100 ms step per trial, as in NeuroGym
    stimulus = batch.obs[:, 0, :]
    np.testing.assert_allclose(stimulus[np.arange(len(side)), side], 0.5 + coh / 200, atol=1e-6)
    np.testing.assert_allclose(stimulus[np.arange(len(side)), 1 - side], 0.5 - coh / 200, atol=1e-6)
    biased = neurobench.make_task("IBL", zero_weight=1.0).sample(np.random.default_rng(1), 50_000)
    assert np.mean(biased.conditions["coh"] == 0) == pytest.approx(0.2, abs=0.006)


def test_ibl_scores_an_answer_by_its_side_and_no_answer_as_a_miss():
    env = neurobench.make("IBL", trials_per_episode=None)
    _, info = env.reset(seed=0)
    outcomes = {}
    for choice in ("right", "wrong", "none"):
        target = int(info["target"])
        action = {"right": target, "wrong": 3 - target, "none": 0}[choice]
        _obs, reward, _, _, info = env.step(action)
        outcomes[choice] = (reward, info["trial"]["outcome"])
    assert outcomes == {"right": (1.0, "correct"), "wrong": (0.0, "fail"), "none": (0.0, "miss")}


def test_the_ideal_observer_reaches_the_exact_psychometric_curve():
    task = neurobench.make_task("IBL")
    records = evaluate(IdealObserver(), task, seed=1, n_trials=20_000)
    for c in (25.0, 12.5, 6.25, 0.0):
        measured = records[records["coh"] == c]["score"]
        expected = stats.norm.cdf(c / 100 / (0.1 * np.sqrt(2)))  # Phi(c/100 sqrt(N/2) / sigma_step), N = 1
        assert measured.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / len(measured)))


def test_ibl_refuses_bad_parameters():
    with pytest.raises(neurobench.InvalidParameterError, match="at most 100"):
        neurobench.make_task("IBL", cohs=[150.0])
    with pytest.raises(neurobench.InvalidParameterError, match="no contrast"):
        neurobench.make_task("IBL", cohs=[0.0], zero_weight=0.0)


# -- the biased blocks ---------------------------------------------------------------------------
def _sessions(task, sessions, m, seed=0):
    batch = task.sample_sessions(np.random.default_rng(seed), sessions, m, None)[0]
    return batch.conditions["bias_block"].reshape(sessions, m), batch.conditions["ground_truth"].reshape(sessions, m)


def _complete_blocks(block):
    """Lengths and types of the blocks that start and end inside each session."""
    lengths, types = [], []
    for row in block:
        edges = np.flatnonzero(np.diff(row)) + 1
        for start, stop in itertools.pairwise(edges):
            lengths.append(stop - start)
            types.append(row[start])
    return np.array(lengths), np.array(types)


def test_ibl_blocks_follow_the_protocol():
    task = neurobench.make_task("IBL_Block")
    block, side = _sessions(task, 300, 900)
    assert (block[:, :90] == -1).all()
    assert (block[:, 90:] >= 0).all()
    assert block[:, 90].mean() == pytest.approx(0.5, abs=0.1)  # the first biased side is random
    lengths, _ = _complete_blocks(block[:, 90:])
    assert lengths.min() >= 20
    assert lengths.max() <= 99
    expected = (np.arange(1, len(task.length_pmf) + 1) * task.length_pmf).sum()  # floor of texp(60) on [20, 100)
    assert expected == pytest.approx(51.1, abs=0.3)
    assert lengths.mean() == pytest.approx(expected, abs=4 * lengths.std() / np.sqrt(len(lengths)))
    changes = np.diff(block[:, 90:], axis=1)
    assert set(np.unique(changes).tolist()) == {-1, 0, 1}  # two types: every switch alternates
    assert side[block == 0].mean() == pytest.approx(0.2, abs=0.01)  # P(left) = 0.8 in type 0
    assert side[block == 1].mean() == pytest.approx(0.8, abs=0.01)
    assert side[block == -1].mean() == pytest.approx(0.5, abs=0.01)


def test_blocks_continue_across_chunks_of_a_session():
    task = neurobench.make_task("IBL_Block")
    stream = SessionStream(task, 3, sessions=4)
    parts = [stream.chunk(c) for c in range(6)]
    m = stream.per_session
    block = np.concatenate([p.conditions["bias_block"].reshape(4, m) for p in parts], axis=1)
    lengths, _ = _complete_blocks(block[:, 90:])
    assert lengths.min() >= 20
    assert lengths.max() <= 99
    assert (block[:, :90] == -1).all()


def test_ibl20_is_neurogyms_alternating_90_trial_blocks():
    task = neurobench.make_task("PerceptualDecisionMaking.ibl20")
    block, side = _sessions(task, 200, 450)
    first = block[:, :1]
    expected = (first + np.arange(450)[None, :] // 90) % 2
    np.testing.assert_array_equal(block, expected)
    assert side[block == 0].mean() == pytest.approx(0.2, abs=0.01)
    assert 0.4 < first.mean() < 0.6


def test_the_block_filter_is_the_exact_posterior():
    """Against conditional frequencies of many simulated sessions of a small schedule."""
    task = neurobench.make_task(
        "IBL_Block", probs=[[0.9, 0.1], [0.3, 0.7]], block_dur=[1, 2, 3], unbiased_trials=1, session_trials=6
    )
    _, side = _sessions(task, 200_000, 6, seed=5)
    history, nxt = side[:, :5], side[:, 5]
    keys = history @ (2 ** np.arange(5))
    predictor = task.predictor()
    for key, count in Counter(keys.tolist()).most_common(8):
        rows = np.flatnonzero(keys == key)
        state = predictor.init(1)
        for t in range(5):
            predictor.observe(state, np.array([0]), history[rows[:1], t])
        predicted = predictor.predictive(state, np.array([0]))[0, 1]
        measured = nxt[rows].mean()
        assert measured == pytest.approx(predicted, abs=4 * np.sqrt(predicted * (1 - predicted) / count) + 1e-3)


def test_chance_is_the_best_history_policy_not_a_heuristic():
    """The exact filter beats a recent-window majority vote (what SideBias used to play)."""
    task = neurobench.make_task("PerceptualDecisionMaking.ibl20")
    _, side = _sessions(task, 128, 500, seed=2)
    scores = {}
    predictor, state, rows = task.predictor(), task.predictor().init(128), np.arange(128)
    hits, votes = [], []
    for t in range(500):
        hits.append(predictor.guess(state, rows) == side[:, t])
        recent = side[:, max(0, t - 22) : t]
        votes.append((recent.mean(axis=1) > 0.5 if t else np.zeros(128, bool)) == side[:, t])
        predictor.observe(state, rows, side[:, t])
    scores = {"filter": float(np.mean(hits)), "heuristic": float(np.mean(votes))}
    assert scores["filter"] == pytest.approx(task.chance().value, abs=0.01)
    assert scores["filter"] > scores["heuristic"] + 0.02
    assert scores["filter"] == pytest.approx(0.8, abs=0.01)  # blocks known after a few trials


def test_the_ideal_observer_uses_the_prior_and_stays_under_the_bound():
    task = neurobench.make_task("IBL_Block")
    ideal = evaluate(IdealObserver(), task, seed=4, n_trials=6000)["score"]
    blind_to_prior = evaluate(InnerIdealObserver(), task, seed=4, n_trials=6000)["score"]
    assert ideal.mean() > blind_to_prior.mean() + 0.02
    bound = task.ceiling()
    assert bound.kind == "bound"
    assert ideal.mean() <= bound.value + 4 * ideal.std() / np.sqrt(len(ideal))
    assert task.chance().value < ideal.mean()


# -- identity, grammar, parameters ---------------------------------------------------------------
def test_block_tasks_keep_their_identity_and_rebuild_from_nested_data():
    task = neurobench.make_task("IBL_Block")
    node = task.node()
    assert node["id"] == "IBL_Block-v0"
    assert "task" not in node
    assert node["params"]["base"]["id"] == "IBL-v0"
    assert node["params"]["base"]["params"]["zero_weight"] == 1.0
    assert neurobench.build(node).node() == node
    assert task.paper.citation.startswith("International Brain Laboratory")
    assert task.family == "perceptual"
    noisier = neurobench.make_task(task, sigma=2.0)  # not the modifier's own: passed to the inner task
    assert noisier.task.sigma == 2.0
    assert noisier.node()["params"]["base"]["params"]["sigma"] == 2.0
    assert neurobench.build(noisier.node()).task.sigma == 2.0
    with pytest.raises(neurobench.UnknownNameError, match="base"):
        neurobench.make_task("IBL_Block", sigma=2.0)
    again = neurobench.make_task("IBL_Block", base={"id": "IBL", "params": {"sigma": 2.0}})
    assert again.task.sigma == 2.0


def test_roitman02_is_reaction_time_around_perceptual_decision_making():
    collection = neurobench.make_task("PerceptualDecisionMaking.roitman02")
    built = neurobench.make_task({"id": "ReactionTime", "task": "PerceptualDecisionMaking"})
    a, b = TrialStream(collection, 7).take(50), TrialStream(built, 7).take(50)
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.phase, b.phase)
    assert collection.name == "PerceptualDecisionMaking.roitman02"
    assert collection.paper.citation.startswith("Roitman")


def test_block_prior_refuses_bad_parameters():
    for params, match in (
        ({"probs": [[0.7, 0.2]]}, "summing to 1"),
        ({"probs": [[0.5, 0.3, 0.2]]}, "rows of 2"),
        ({"block_dur": 0.5}, "between 1"),
        ({"block_dur": ["truncated_exponential", [60, 20, float("inf")]]}, "finite"),
        ({"unbiased_trials": -1}, "unbiased_trials"),
    ):
        with pytest.raises(neurobench.InvalidParameterError, match=match):
            neurobench.make_task("IBL_Block", **params)
    with pytest.raises(neurobench.InvalidParameterError, match="not a trial task"):
        BlockPrior(base="MatchingPennies")


@settings(max_examples=25, deadline=None)
@given(
    probs=st.lists(st.floats(0.05, 0.95), min_size=1, max_size=3),
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    unbiased=st.integers(0, 5),
    answers=st.lists(st.integers(0, 1), min_size=1, max_size=40),
)
def test_the_filter_belief_stays_a_distribution(probs, lengths, unbiased, answers):
    table = np.array([[p, 1 - p] for p in probs])
    pmf = np.bincount(lengths, minlength=max(lengths) + 1)[1:] / len(lengths)
    predictor = BlockFilter(table, unbiased, pmf)
    state, rows = predictor.init(3), np.arange(3)
    for answer in answers:
        predictive = predictor.predictive(state, rows)
        np.testing.assert_allclose(predictive.sum(axis=1), 1.0)
        predictor.observe(state, rows, np.full(3, answer))
        belief = state["belief"]
        live = state["count"] >= unbiased
        np.testing.assert_allclose(belief[live].sum(axis=(1, 2)), 1.0)
        assert (belief >= 0).all()
