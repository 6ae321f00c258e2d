"""The reasoning family: ProbabilisticReasoning and HierarchicalReasoning. Conformance over
a parameter grid, the generative statistics of their trials, the rules on hand-built
actions, and the exact levels against brute force."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import neurobench
from neurobench.core.stream import SessionStream, TrialStream
from neurobench.tasks.reasoning import BLOCK, VOID, RuleBelief
from neurobench.testing import check_task

GRID = [
    "ProbabilisticReasoning",
    {"id": "ProbabilisticReasoning", "params": {"n_loc": 3}},
    {"id": "ProbabilisticReasoning", "params": {"shape_weight": [-1.0, 0.2, 0.5]}},  # a class prior above 1/2
    "HierarchicalReasoning",
    {"id": "HierarchicalReasoning", "params": {"dt": 50, "session_trials": 200}},
]


@pytest.mark.parametrize("node", GRID, ids=str)
def test_the_reasoning_tasks_conform(node):
    check_task(node)


# -- ProbabilisticReasoning ----------------------------------------------------------------------
def test_the_rewarded_target_follows_the_summed_weights_of_evidence():
    task = neurobench.make_task("ProbabilisticReasoning")
    batch = TrialStream(task, 0).take(40_000)
    c = batch.conditions
    weight = np.asarray(task.shape_weight)
    np.testing.assert_allclose(c["log_odds"], weight[c["shapes"]].sum(axis=1))
    assert stats.chisquare(np.bincount(c["shapes"].ravel(), minlength=10)).pvalue > 1e-3
    assert np.all(np.sort(c["locs"], axis=1) == np.arange(4))  # four distinct locations
    for low, high in ((-0.9, -0.4), (-0.4, 0.1), (0.1, 0.6), (0.6, 1.1)):
        rows = (c["log_odds"] > low) & (c["log_odds"] <= high)
        p = 1 / (1 + 10 ** -c["log_odds"][rows])
        observed = c["ground_truth"][rows]
        assert abs(observed.mean() - p.mean()) < 4 * np.sqrt(p.mean() * (1 - p.mean()) / rows.sum()) + 1e-3


def test_shapes_accumulate_on_screen_and_leave_before_the_decision():
    task = neurobench.make_task("ProbabilisticReasoning")
    batch = TrialStream(task, 2).take(50)
    ch = task.obs_channels
    for i in range(batch.n):
        obs = batch.obs[i]
        shapes, locs = batch.conditions["shapes"][i], batch.conditions["locs"][i]
        for j in range(4):
            s, e = (int(x[i]) for x in batch.periods[f"stimulus{j}"])
            for k in range(4):
                code = obs[s:e, ch[f"loc{k}"]]
                order = int(np.flatnonzero(locs == k)[0])
                expected = np.eye(10)[shapes[order]] if order <= j else np.zeros(10)
                assert np.all(code == expected)
        d0 = int(batch.periods["delay"][0][i])
        decision = int(batch.periods["decision"][0][i])
        assert not obs[d0:, 1:].any()
        assert np.all(obs[:decision, 0] == 1)
        assert not obs[decision:, 0].any()


def test_the_levels_equal_brute_force_enumeration():
    task = neurobench.make_task("ProbabilisticReasoning")
    weight = np.asarray(task.shape_weight)
    p = np.array([1 / (1 + 10 ** -sum(weight[list(s)])) for s in itertools.product(range(10), repeat=4)])
    assert task.ceiling().value == pytest.approx(np.mean(np.maximum(p, 1 - p)), abs=1e-9)
    assert task.chance().value == pytest.approx(0.5, abs=1e-9)
    skewed = neurobench.make_task("ProbabilisticReasoning", shape_weight=[-1.0, 0.2, 0.5])
    w = np.asarray(skewed.shape_weight)
    q = np.array([1 / (1 + 10 ** -sum(w[list(s)])) for s in itertools.product(range(3), repeat=4)])
    assert skewed.chance().value == pytest.approx(max(q.mean(), 1 - q.mean()), abs=1e-9)
    assert skewed.ceiling().value == pytest.approx(np.mean(np.maximum(q, 1 - q)), abs=1e-9)
    assert skewed.chance().value > 0.5


def test_fixation_is_held_through_the_shapes_and_the_choice_is_scored_by_the_drawn_target():
    task = neurobench.make_task("ProbabilisticReasoning")
    first = TrialStream(task, 4).take(1)
    truth = int(first.conditions["ground_truth"][0])
    for action, outcome in ((1 + truth, "correct"), (2 - truth, "fail")):
        env = neurobench.make(task, trials_per_episode=None)
        _, info = env.reset(seed=4)
        while True:
            _, reward, _, _, info = env.step(action if info["window"] == 2 else 0)
            if "trial" in info:
                break
        assert info["trial"]["outcome"] == outcome
        assert reward == float(outcome == "correct")
    env = neurobench.make(task, trials_per_episode=None)
    env.reset(seed=4)
    for _ in range(7):  # into the first shape's period
        env.step(0)
    _, reward, _, _, _ = env.step(1)
    assert reward == pytest.approx(-0.1)


# -- HierarchicalReasoning -----------------------------------------------------------------------
def _session_conditions(task, sessions=32, chunks=5):
    stream = SessionStream(task, 0, sessions=sessions)
    parts = [stream.chunk(c) for c in range(chunks)]
    m = stream.per_session
    return {
        key: np.concatenate([p.conditions[key].reshape(sessions, m) for p in parts], axis=1)
        for key in parts[0].conditions
    }


def test_rules_alternate_in_blocks_of_ten_to_twenty_trials_from_a_random_first_rule():
    task = neurobench.make_task("HierarchicalReasoning")
    c = _session_conditions(task)
    lengths = []
    for rules, position in zip(c["rule"], c["trial_in_block"], strict=True):
        change = np.flatnonzero(np.diff(rules) != 0) + 1
        assert np.all(position[change] == 0)  # a new block starts where the rule changes...
        assert np.all(np.diff(position)[np.diff(rules) == 0] == 1)  # ...and only there
        lengths += np.diff(np.concatenate([[0], change])).tolist()  # complete blocks (from the first)
    lengths = np.asarray(lengths)
    assert lengths.min() >= BLOCK[0]
    assert lengths.max() <= BLOCK[1]
    assert stats.chisquare(np.bincount(lengths, minlength=21)[10:]).pvalue > 1e-3
    assert 6 < c["rule"][:, 0].sum() < 26  # NeuroGym always started with rule 1


def test_the_interval_judged_is_the_delay_shown_split_at_850_ms():
    task = neurobench.make_task("HierarchicalReasoning")
    assert task.threshold == 850
    batch = task.sample(np.random.default_rng(0), 6000)
    c = batch.conditions
    shown = (batch.periods["delay"][1] - batch.periods["delay"][0]) * task.dt
    np.testing.assert_array_equal(shown, np.floor(c["interval"] / task.dt) * task.dt)
    away = c["interval"] != 850
    np.testing.assert_array_equal(c["long_interval"][away], c["interval"][away] > 850)
    tie = ~away
    assert stats.binomtest(int(c["long_interval"][tie].sum()), int(tie.sum())).pvalue > 1e-3
    toward = c["long_interval"] == (c["rule"] == 1)
    np.testing.assert_array_equal(c["ground_truth"], np.where(toward, c["stimulus"], 1 - c["stimulus"]))
    rows = np.arange(batch.n)
    np.testing.assert_array_equal(batch.target[rows, batch.periods["rule_target"][0]], 1 + c["rule"])
    np.testing.assert_array_equal(batch.target[rows, batch.periods["decision"][0]], 3 + c["ground_truth"])


def _trial(task, seed, rule_answer, choice_answer):
    """One trial answering at the last step of each window: ``rule_answer(target)`` and
    ``choice_answer(target)`` give the answers; returns record, rewards, observations."""
    env = neurobench.make(task, trials_per_episode=None)
    obs, info = env.reset(seed=seed)
    rewards, seen, windows = [], [obs], 0
    was_open = False
    while True:
        window = info["window"]
        windows += window > 0 and not was_open
        was_open = window > 0
        action = 0
        if window == 2:
            answer = rule_answer if windows == 1 else choice_answer
            action = answer(int(info["target"]))
        obs, reward, _, _, info = env.step(action)
        rewards.append(reward)
        if "trial" in info:
            return info["trial"], rewards, np.array(seen)
        seen.append(obs)


def _same(target):
    return target


def _other(target):
    return {1: 2, 2: 1, 3: 4, 4: 3}[target]


@pytest.mark.parametrize("seed", range(5))
def test_only_a_right_rule_and_a_right_choice_pay_and_an_error_does_not_say_which(seed):
    task = neurobench.make_task("HierarchicalReasoning")
    record, rewards, right_path = _trial(task, seed, _same, _same)
    assert record["outcome"] == "correct"
    assert rewards[-1] == 1.0
    assert sum(rewards) == 1.0
    for rule, choice in ((_same, _other), (_other, _same), (_other, _other)):
        record, rewards, path = _trial(task, seed, rule, choice)
        assert record["outcome"] == "fail"
        assert sum(rewards) == 0.0
        np.testing.assert_array_equal(path, right_path)  # what follows a wrong report looks the same
    record, rewards, _ = _trial(task, seed, lambda t: 0, _same)  # no rule report
    assert record["outcome"] == "miss"
    assert sum(rewards) == 0.0


def test_breaking_fixation_outside_the_two_windows_costs_the_abort_penalty():
    task = neurobench.make_task("HierarchicalReasoning")
    env = neurobench.make(task, trials_per_episode=None)
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(3)
    assert reward == pytest.approx(-0.1)


def test_the_void_copy_is_hidden_from_the_parameters_and_the_visited_trial_has_neurogyms_periods():
    task = neurobench.make_task("HierarchicalReasoning")
    assert set(task.params()["timing"]) == set(task.default_timing)
    assert task.periods[:7] == tuple(task.default_timing)
    assert task.periods[7:] == VOID
    with pytest.raises(neurobench.UnknownNameError):
        neurobench.make_task("HierarchicalReasoning", timing={"void_delay": 500})
    batch = task.sample(np.random.default_rng(1), 200)
    for period in VOID:
        source = period.removeprefix("void_")
        np.testing.assert_array_equal(np.diff(batch.periods[period], axis=0), np.diff(batch.periods[source], axis=0))
    assert task.mean_steps == pytest.approx(sum(task.timing[p].mean for p in task.default_timing) / task.dt)


def test_the_reference_policies_track_the_rule_from_ambiguous_feedback():
    """The switch is covert: a block's first trial mostly fails; the ideal observer has
    recovered by its third (it is then right unless the interval was the 850 ms coin flip),
    the blind policy, whose errors say less, reaches about half of its trials."""
    from neurobench.evaluate import evaluate

    task = neurobench.make_task("HierarchicalReasoning", session_trials=300)
    ideal = evaluate(task.ideal_observer(), task, seed=1, n_trials=1200)
    first, later = ideal["trial_in_block"] == 0, ideal["trial_in_block"] >= 3
    assert ideal["score"][first].mean() < 0.3
    assert ideal["score"][later].mean() > 0.88
    blind = evaluate(task.blind_policy(), task, seed=1, n_trials=1200)
    assert blind["score"][blind["trial_in_block"] == 0].mean() < 0.3
    assert 0.38 < blind["score"][blind["trial_in_block"] >= 3].mean() <= 0.5 + 0.05


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.booleans(), st.floats(0.5, 1.0)), min_size=1, max_size=40),
)
def test_the_rule_posterior_stays_normalized_and_a_right_trial_proves_the_rule(history):
    belief = RuleBelief(1)
    rows = np.array([0])
    for reported, right, confidence in history:
        before = belief.p.copy()
        if right and before[0, reported].sum() == 0:
            continue  # impossible evidence
        belief.learn(rows, np.array([reported]), np.array([right]), np.array([confidence]))
        assert belief.p.sum() == pytest.approx(1.0)
        assert np.all(belief.p >= 0)
        if right:  # certain of the rule before the block may end: mass on the other only from a switch
            hazard = (before[0, reported] / before[0, reported].sum() * belief.hazard).sum()
            assert belief.p[0, 1 - reported].sum() == pytest.approx(hazard, abs=1e-9)
    assert belief.hazard[-1] == 1.0
    assert np.all(belief.hazard[: BLOCK[0] - 1] == 0)
