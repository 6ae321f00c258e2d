"""The working-memory family's new NeuroGym ports: DelayMatchSampleDistractor1D and
MemoryRecall.

Conformance over a small grid; the match-through-distractors rule on hand-built answer
times; the closed-form match evidence against numerical integration; MemoryRecall's
trial structure, its per-step rule, and its exact ceiling against a simulation of the
remembering observer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobench
from neurobench.core.stream import TrialStream
from neurobench.tasks.working_memory import DelayMatchSampleDistractor1D, MemoryRecall, match_evidence
from neurobench.testing import check_task

GRID = [
    "DelayMatchSampleDistractor1D",
    {"id": "DelayMatchSampleDistractor1D", "params": {"sigma": 0.0}},
    {"id": "DelayMatchSampleDistractor1D", "params": {"sigma": 3.0, "dt": 50}},
    "MemoryRecall",
    {"id": "MemoryRecall", "params": {"balanced": False}},
    {"id": "MemoryRecall", "params": {"stim_dim": 2, "p_recall": 0.3, "t_min": 10, "t_max": 14}},
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: n if isinstance(n, str) else f"{n['id']}-{n['params']}")
def test_the_grid_conforms(node):
    check_task(node)


def play(task, seed, answer_at):
    """The first trial of ``seed`` with action 1 at the steps in ``answer_at``."""
    env = neurobench.make(task, trials_per_episode=None)
    env.reset(seed=seed)
    rewards, t = [], 0
    while True:
        _, reward, _, _, info = env.step(int(t in answer_at))
        rewards.append(reward)
        t += 1
        if "trial" in info:
            return np.array(rewards), info["trial"]


# -- DelayMatchSampleDistractor1D -----------------------------------------------------------
def test_answering_at_the_match_is_correct_and_anywhere_else_fails():
    task = DelayMatchSampleDistractor1D()
    for seed in range(12):
        batch = TrialStream(task, seed).take(1)
        match = int(batch.conditions["ground_truth"][0])
        at = {p: int(batch.periods[p][0][0]) + 2 for p in task.periods}
        rewards, record = play(task, seed, {at[f"test{match}"]})
        assert record["outcome"] == "correct"
        assert rewards.sum() == 1.0
        assert len(rewards) == at[f"test{match}"] + 1
        for other in {1, 2, 3} - {match}:
            rewards, record = play(task, seed, {at[f"test{other}"]})
            if other < match:  # a distractor: fail, -1, the trial ends
                assert record["outcome"] == "fail"
                assert rewards.sum() == -1.0
                assert len(rewards) == at[f"test{other}"] + 1
        rewards, record = play(task, seed, {at["delay1"]})
        assert record["outcome"] == "fail"
        assert rewards.sum() == -1.0
        rewards, record = play(task, seed, {at["sample"], at[f"test{match}"]})  # breaking fixation costs 0.1
        assert record["outcome"] == "correct"
        assert rewards.sum() == pytest.approx(0.9)
        rewards, record = play(task, seed, set())
        assert record["outcome"] == "miss"
        assert rewards.sum() == 0
        assert len(rewards) == batch.length[0]


def test_noise_free_trials_are_neurogyms_layout():
    """With sigma = 0 the inputs are NeuroGym's: fixation only in the fixation period, the
    32-unit ring showing the sample and each test, nothing in the delays; the target is
    the matching test."""
    task = DelayMatchSampleDistractor1D(sigma=0.0)
    batch = task.sample(np.random.default_rng(0), 100)
    theta = np.arange(32) * (2 * np.pi / 32)
    for i in range(batch.n):
        span = {p: slice(batch.periods[p][0][i], batch.periods[p][1][i]) for p in task.periods}
        obs = batch.obs[i]
        assert obs[span["fixation"], 0].min() == 1
        assert obs[span["fixation"].stop :, 0].max() == 0
        for p in ("sample", "test1", "test2", "test3"):
            np.testing.assert_allclose(
                obs[span[p], 1:], np.cos(theta - batch.conditions[p][i])[None].repeat(5, 0), atol=1e-6
            )
        for p in ("fixation", "delay1", "delay2", "delay3"):
            assert np.abs(obs[span[p], 1:]).max() == 0
        match = batch.conditions["ground_truth"][i]
        assert batch.conditions[f"test{match}"][i] == batch.conditions["sample"][i]
        np.testing.assert_array_equal(np.flatnonzero(batch.target[i]), np.arange(batch.length[i])[span[f"test{match}"]])


def test_noise_goes_on_the_stimuli_only_with_neurogyms_std():
    task = DelayMatchSampleDistractor1D(sigma=1.0, dt=50)
    clean = DelayMatchSampleDistractor1D(sigma=0.0, dt=50)
    noisy, base = TrialStream(task, 1).take(400), TrialStream(clean, 1).take(400)
    residual = noisy.obs - base.obs
    stimulus = np.zeros(noisy.phase.shape, dtype=bool)
    for p in ("sample", "test1", "test2", "test3"):
        start, end = noisy.periods[p]
        stimulus |= (np.arange(noisy.max_length)[None] >= start[:, None]) & (
            np.arange(noisy.max_length)[None] < end[:, None]
        )
    assert residual[~stimulus].max() == 0
    assert residual[..., 0].max() == 0
    assert residual[stimulus][:, 1:].std() == pytest.approx(1.0 / np.sqrt(50), rel=0.02)


def test_the_matching_test_is_uniform():
    batch = TrialStream(DelayMatchSampleDistractor1D(), 5).take(6000)
    counts = np.bincount(batch.conditions["ground_truth"], minlength=4)[1:]
    assert np.all(np.abs(counts / 6000 - 1 / 3) < 0.025)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), noise=st.floats(0.3, 3.0))
def test_match_evidence_is_the_integrated_likelihood_ratio(seed, noise):
    """The closed form (von Mises integrals) against numerical integration over the unknown
    directions, for summed ring evidence of 32 units over a few steps."""
    rng = np.random.default_rng(seed)
    theta = np.arange(32) * (2 * np.pi / 32)
    steps = rng.integers(1, 6, size=4)
    angles = rng.uniform(0, 2 * np.pi, 4)
    angles[2] = angles[0]
    sums = [
        n * np.cos(theta - a) + np.sqrt(n) * noise * rng.standard_normal(32) for n, a in zip(steps, angles, strict=True)
    ]
    grid = (np.arange(4096) + 0.5) * (2 * np.pi / 4096)

    def log_mean_likelihood(*periods):
        """log of the mean over a shared direction of exp(sum_p S_p . mu(theta) / s^2)."""
        exponent = sum(s @ np.cos(theta[:, None] - grid[None, :]) for s in periods) / noise**2
        top = exponent.max()
        return top + np.log(np.mean(np.exp(exponent - top)))

    expected = [
        log_mean_likelihood(sums[0], sums[k]) - log_mean_likelihood(sums[0]) - log_mean_likelihood(sums[k])
        for k in (1, 2, 3)
    ]
    summed = np.array([[s @ np.exp(1j * theta) for s in sums]])
    np.testing.assert_allclose(match_evidence(summed, noise)[0], expected, atol=1e-6, rtol=1e-6)


def test_the_distractor_ceiling_bounds_the_sequential_observer():
    task = DelayMatchSampleDistractor1D()
    ceiling = task.ceiling()
    assert ceiling.kind == "bound"
    assert 0.98 < ceiling.value < 1
    assert DelayMatchSampleDistractor1D(sigma=6.0).ceiling().value < ceiling.value - 0.02
    from neurobench.agents.reference import IdealObserver
    from neurobench.evaluate import evaluate

    scores = evaluate(IdealObserver(), task, seed=4, n_trials=3000)["score"]
    se = scores.std() / np.sqrt(len(scores))
    assert ceiling.value - 0.03 < scores.mean() < ceiling.value + 4 * se  # answering as tests come loses ~0.01
    assert DelayMatchSampleDistractor1D(sigma=0.0).ceiling().value == 1.0
    assert task.chance().value == pytest.approx(1 / 3)


# -- MemoryRecall ----------------------------------------------------------------------------
def test_recall_trials_bring_back_the_marked_patterns():
    """T is uniform in [t_min, t_max]; int(p_recall T) store steps carry the store signal;
    the recall steps' targets are exactly those patterns, each once; the cue agrees with
    its target where shown and hides each element with probability 2 (1 - 0.7)."""
    task = MemoryRecall()
    batch = TrialStream(task, 0).take(3000)
    c = task.obs_channels
    lengths = batch.conditions["length"]
    assert set(np.unique(lengths)) == set(range(15, 26))
    np.testing.assert_array_equal(batch.conditions["n_recall"], np.floor(0.1 * lengths).astype(int))
    np.testing.assert_array_equal(batch.length, lengths)
    hidden = []
    for i in range(batch.n):
        store = batch.periods["store"][1][i]
        obs, target = batch.obs[i, : lengths[i]], batch.target[i, : lengths[i]]
        marked = np.flatnonzero(obs[:, c["store"].start])
        assert len(marked) == batch.conditions["n_recall"][i]
        assert marked.max() < store
        stored = obs[marked][:, c["stimulus"]]
        recalled = target[store:]
        assert sorted(map(tuple, recalled)) == sorted(map(tuple, stored))
        assert np.abs(target[:store]).max() == 0
        assert set(np.unique(obs[:store, c["stimulus"]])) <= {-1.0, 1.0}
        cue = obs[store:, c["stimulus"]]
        assert np.all((cue == recalled) | (cue == 0))
        hidden.append((cue == 0).mean())
    assert np.mean(hidden) == pytest.approx(0.6, abs=0.02)


def test_unbalanced_cues_flip_elements():
    task = MemoryRecall(balanced=False)
    batch = TrialStream(task, 1).take(3000)
    recall = (np.arange(batch.max_length)[None] >= batch.periods["recall"][0][:, None]) & (
        np.arange(batch.max_length)[None] < batch.length[:, None]
    )
    cue, target = batch.obs[..., :10][recall], batch.target[recall]
    assert set(np.unique(target)) == {0.0, 1.0}
    assert np.mean(cue != target) == pytest.approx(0.3, abs=0.01)


def test_a_recall_is_correct_only_when_every_element_is_right():
    task = MemoryRecall()
    batch = TrialStream(task, 2).take(1)
    store = int(batch.periods["store"][1][0])

    def run(change):
        env = neurobench.make(task, trials_per_episode=None)
        _, info = env.reset(seed=2)
        rewards = []
        while True:
            action = np.asarray(info["target"], dtype=np.float32).copy()
            if info["step"] >= store:
                action = change(action)
            _, reward, _, _, info = env.step(action)
            rewards.append(reward)
            if "trial" in info:
                return np.array(rewards), info["trial"]

    rewards, record = run(lambda a: 0.5 * a)  # right side everywhere: correct, paid -0.5 per recall
    assert record["outcome"] == "correct"
    np.testing.assert_allclose(rewards[store:], -0.5)
    assert np.all(rewards[:store] == 0)
    rewards, record = run(lambda a: np.concatenate([-a[:1], a[1:]]))  # one element wrong
    assert record["outcome"] == "fail"
    np.testing.assert_allclose(rewards[store:], -0.2)
    _, record = run(lambda a: np.zeros_like(a))  # undecided is wrong
    assert record["outcome"] == "fail"


def simulated_recall(dim, p_shown, recalls, draws, rng):
    """Monte Carlo of the observer that remembers every marked pattern and outputs the
    first remaining one consistent with each cue (an implementation independent of the
    task's formula)."""
    right = 0
    for _ in range(draws):
        patterns = rng.choice([-1.0, 1.0], size=(recalls, dim))
        order = rng.permutation(recalls)
        remaining = list(range(recalls))
        ok = True
        for j in order:
            shown = rng.random(dim) < p_shown
            fits = [k for k in remaining if np.all(patterns[k][shown] == patterns[j][shown])]
            pick = fits[0]
            ok = bool(np.all(patterns[pick] == patterns[j]))
            if not ok:  # the trial is lost
                break
            remaining.remove(pick)
        right += ok
    return right / draws


@pytest.mark.parametrize(("dim", "accuracy", "recalls"), [(10, 0.7, 2), (4, 0.6, 3), (6, 0.9, 2)])
def test_the_exact_recall_ceiling_matches_a_simulation(dim, accuracy, recalls):
    from neurobench.tasks.working_memory import _consistent_recall

    exact = _consistent_recall(dim, 1 - 2 * (1 - accuracy), recalls)
    simulated = simulated_recall(dim, 1 - 2 * (1 - accuracy), recalls, 4000, np.random.default_rng(dim))
    assert exact == pytest.approx(simulated, abs=4 * np.sqrt(exact * (1 - exact) / 4000) + 1e-3)
    assert _consistent_recall(dim, 1 - 2 * (1 - accuracy), 1) == 1.0


def test_recall_levels():
    task = MemoryRecall()
    lengths = np.arange(15, 26)
    recalls = np.floor(0.1 * lengths).astype(int)  # 1 for T < 20, 2 from 20
    assert task.chance().value == pytest.approx(np.mean(0.5 ** (10 * recalls)))
    assert 0.95 < task.ceiling().value < 1
    assert MemoryRecall(memoryless_accuracy=1.0).ceiling().value == pytest.approx(1.0)  # nothing hidden


def test_bad_parameters_name_themselves():
    with pytest.raises(neurobench.InvalidParameterError, match="p_recall"):
        MemoryRecall(p_recall=0.6)
    with pytest.raises(neurobench.InvalidParameterError, match="p_recall"):
        MemoryRecall(p_recall=0.05)  # no recall at t_min = 15
    with pytest.raises(neurobench.InvalidParameterError, match="t_max"):
        MemoryRecall(t_max=10)
    with pytest.raises(neurobench.UnknownNameError, match="uniform"):
        MemoryRecall(t_distribution="normal")
    with pytest.raises(neurobench.InvalidParameterError, match="cannot be set"):
        MemoryRecall(timing={"store": 10})
    with pytest.raises(neurobench.InvalidParameterError, match="memoryless_accuracy"):
        MemoryRecall(memoryless_accuracy=0.3)
    with pytest.raises(neurobench.InvalidParameterError, match="sigma"):
        DelayMatchSampleDistractor1D(sigma=-1)
