"""Response rules, step by step through the env: fixate-then-choose, go/no-go, graded timing
rewards, branches, continuous reports, stochastic payoffs, accept sets."""

import numpy as np
import pytest

import neurobench
from neurobench.core.rules import LAST, FixateThenChoose, Kind, Outcome
from neurobench.core.stream import TrialStream


def _first_trial(env, policy, seed=0):
    """Step with ``policy(step, info)`` until the first trial ends; its record and rewards."""
    _, info = env.reset(seed=seed)
    rewards = []
    while True:
        _, reward, _, _, info2 = env.step(policy(info["step"], info))
        rewards.append(reward)
        info = info2
        if "trial" in info:
            return info["trial"], rewards


def test_breaking_fixation_costs_the_abort_reward_and_goes_on_by_default():
    env = neurobench.make("PerceptualDecisionMaking")
    record, rewards = _first_trial(env, lambda t, info: 1 if t == 0 else int(info["target"]))
    assert rewards[0] == pytest.approx(-0.1)
    assert record["outcome"] == "correct"
    assert record["reward"] == pytest.approx(0.9)
    aborting = neurobench.make("PerceptualDecisionMaking", abort=True)
    record, rewards = _first_trial(aborting, lambda t, info: 1)
    assert record["outcome"] == "abort"
    assert rewards == [pytest.approx(-0.1)]


def test_a_wrong_answer_fails_and_no_answer_misses():
    env = neurobench.make("PerceptualDecisionMaking")
    record, rewards = _first_trial(env, lambda t, info: 0 if info["target"] == 0 else 3 - int(info["target"]))
    assert record["outcome"] == "fail"
    assert record["score"] == 0.0
    assert len(rewards) == 22
    env = neurobench.make("DelayMatchSample", rewards={"miss": -0.5})
    record, rewards = _first_trial(env, lambda t, info: 0)
    assert record["outcome"] == "miss"
    assert rewards[-1] == -0.5
    assert len(rewards) == 3 + 5 + 10 + 5 + 9


def test_go_nogo_withholding_is_the_answer_on_nogo_trials():
    env = neurobench.make("GoNogo", trials_per_episode=None)
    env.reset(seed=1)
    seen = {}
    while len(seen) < 2:  # withhold throughout: correct on no-go trials, a missed go on go trials
        _, reward, _, _, info = env.step(0)
        if "trial" in info:
            seen[info["trial"]["ground_truth"]] = (info["trial"]["outcome"], reward)
    assert seen == {0: ("correct", 0.0), 1: ("miss", -0.5)}
    _, info = env.reset(seed=2)
    punished = []
    while not punished:  # go as soon as the decision opens: wrong on no-go trials
        _, reward, _, _, info = env.step(1 if info["window"] else 0)
        if "trial" in info and info["trial"]["ground_truth"] == 0:
            punished.append((info["trial"]["outcome"], info["trial"]["reward"]))
    assert punished == [("fail", -0.5)]


def test_an_answer_in_an_earlier_window_skips_to_the_next_and_both_must_be_right():
    env = neurobench.make("DualDelayMatchSample", trials_per_episode=None)
    _, info = env.reset(seed=0)
    steps, outcome = 0, None
    while outcome is None:
        action = int(info["target"]) if info["window"] else 0
        _, _, _, _, info = env.step(action)
        steps += 1
        outcome = info.get("trial", {}).get("outcome")
    assert outcome == "correct"
    assert steps == 5 + 5 + 5 + 5 + 1 + 5 + 5 + 1  # each answer given on a window's first step skips its rest


def neurogym_timing_reward(produced_ms, interval_ms, margin=0.2, correct=1.0):
    """NeuroGym 2.3.1's ReadySetGo reward of a go ``produced_ms`` after the set onset."""
    error = abs(produced_ms - interval_ms)
    tolerance = margin * interval_ms + 25
    if error > tolerance:
        return 0.0
    return max((1.0 - error / tolerance) ** 1.5, 0.1) * correct


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ready_set_go_pays_the_neurogym_profile_along_the_whole_production_window(seed):
    """The curve, not one point: a go at every step of the production window, against
    NeuroGym's formula for that production time."""
    trial = TrialStream(neurobench.make_task("ReadySetGo"), seed).take(1)  # the single env's first trial
    start, end = (int(x[0]) for x in trial.periods["production"])
    interval = float(trial.conditions["production"][0])
    set_ms = float(trial.periods["set"][1][0] - trial.periods["set"][0][0]) * 80
    rewards, expected = [], []
    for k in range(end - start):
        env = neurobench.make("ReadySetGo", trials_per_episode=None)
        env.reset(seed=seed)
        for _ in range(start + k):
            env.step(0)
        _, reward, _, _, info = env.step(1)
        assert info["trial"]["outcome"] in ("correct", "fail")
        rewards.append(reward)
        expected.append(neurogym_timing_reward(set_ms + k * 80, interval))
    np.testing.assert_allclose(rewards, expected, atol=1e-6)
    assert max(rewards) > 0.8
    assert min(rewards) == 0.0


def test_ready_set_go_targets_the_best_moment_and_a_late_trial_is_a_miss():
    env = neurobench.make("ReadySetGo", trials_per_episode=None)
    record, rewards = _first_trial(env, lambda t, info: int(info["target"]))
    assert record["outcome"] == "correct"
    assert rewards[-1] > 0.95
    record, _ = _first_trial(env, lambda t, info: 0)
    assert record["outcome"] == "miss"


def test_continuous_reports_are_paid_by_their_error_and_correct_within_tolerance():
    task = neurobench.make_task("ReachingDelayResponse")
    for error in (0.0, 0.05, 0.09, 0.2, 0.6):
        env = neurobench.make(task, trials_per_episode=None)
        _, info = env.reset(seed=4)
        while info["window"] == 0:
            _, _, _, _, info = env.step(np.array([-1.0, 0.0], np.float32))
        target = float(info["target"][1])
        report = target + error if target + error <= 1 else target - error
        _, reward, _, _, info = env.step(np.array([1.0, report], np.float32))
        assert reward == pytest.approx(1 / (1 + abs(report - target)) ** 2, rel=1e-5)
        assert info["trial"]["outcome"] == ("correct" if error < task.tolerance else "fail")


def test_a_continuous_report_must_hold_during_the_stimulus():
    env = neurobench.make("ReachingDelayResponse")
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(np.array([0.5, 0.0], np.float32))  # go >= 0: not fixating
    assert reward == pytest.approx(-0.1)


def test_bandit_arms_pay_with_their_drawn_probabilities():
    env = neurobench.make("Bandit", trials_per_episode=None, p=(0.2, 0.7))
    env.reset(seed=0)
    paid = {0: [], 1: []}
    rng = np.random.default_rng(0)
    for _ in range(6000):
        arm = int(rng.integers(2))
        _, reward, _, _, info = env.step(arm)
        paid[arm].append(reward)
        assert info["trial"]["outcome"] == ("correct" if arm == 1 else "fail")
    assert np.mean(paid[0]) == pytest.approx(0.2, abs=0.03)
    assert np.mean(paid[1]) == pytest.approx(0.7, abs=0.03)


def test_bandit_blocks_redraw_the_probabilities_within_a_session():
    env = neurobench.make("Bandit", trials_per_episode=None, block_length=10)
    env.reset(seed=0)
    probabilities = []
    for _ in range(40):
        _, _, _, _, info = env.step(0)
        probabilities.append(tuple(info["trial"]["p"]))
    blocks = [set(probabilities[i : i + 10]) for i in range(0, 40, 10)]
    assert all(len(b) == 1 for b in blocks)
    assert len(set.union(*blocks)) == 4
    assert all(p[0] + p[1] == pytest.approx(1.0) for p in probabilities)  # correlated arms


def test_daw_two_step_shows_the_state_the_choice_led_to_and_pays_its_reward():
    env = neurobench.make("DawTwoStep", trials_per_episode=None)
    _, info = env.reset(seed=3)
    rng = np.random.default_rng(0)
    transitions, switches, last_good = [], 0, None
    for _ in range(4000):
        action = int(rng.integers(1, 3))
        shown, reward, _, _, info = env.step(action)
        _, _, _, _, info = env.step(0)
        assert "trial" in info  # the second stage is the trial's last step
        record = info["trial"]
        reached = record[f"state_after{action}"]
        assert shown[reached] == 1
        assert shown[3 - reached] == 0
        assert reward == float(record[f"paid{action}"])
        transitions.append(reached == action)
        if last_good is not None and record["ground_truth"] != last_good:
            switches += 1
        last_good = record["ground_truth"]
    assert np.mean(transitions) == pytest.approx(0.8, abs=0.02)  # the transition structure, from samples
    assert switches / 4000 == pytest.approx(0.025, abs=0.008)


def test_fixating_at_the_first_stage_is_a_miss_that_ends_the_trial():
    env = neurobench.make("DawTwoStep")
    record, rewards = _first_trial(env, lambda t, info: 0)
    assert record["outcome"] == "miss"
    assert rewards == [pytest.approx(-0.1)]


def test_an_accept_set_separates_what_counts_as_correct_from_the_target():
    accepts = np.eye(5, dtype=bool)
    accepts[1, 2] = accepts[2, 1] = True  # neighbours on a ring count
    rule = FixateThenChoose(
        ("fixation",), ("decision",), {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": 0.0}, accepts=accepts
    )
    phase = np.array([Kind.GO | LAST])
    events = [rule.respond(phase, np.array([1]), np.array([a])).event[0] for a in range(5)]
    assert events == [Outcome.MISS, Outcome.CORRECT, Outcome.CORRECT, Outcome.FAIL, Outcome.FAIL]
