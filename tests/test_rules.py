"""The fixate-then-choose rule, step by step, through the env."""

import numpy as np
import pytest

import neurobench


def _run(env, actions_for):
    """Step with actions chosen from (step_in_trial, target) until the first trial ends."""
    _, info = env.reset(seed=0)
    rewards = []
    while True:
        _, reward, _, _, info2 = env.step(actions_for(env.step_in_trial, info["target"]))
        rewards.append(reward)
        info = info2
        if info["new_trial"]:
            return info["trial"], rewards


def test_breaking_fixation_costs_the_abort_reward_but_goes_on_by_default():
    env = neurobench.make("PerceptualDecisionMaking")
    record, rewards = _run(env, lambda t, target: 1 if t == 0 else target)
    assert rewards[0] == pytest.approx(-0.1)
    assert record["outcome"] == "correct"
    assert record["reward"] == pytest.approx(0.9)


def test_with_abort_a_fixation_break_ends_the_trial():
    env = neurobench.make("PerceptualDecisionMaking", abort=True)
    record, rewards = _run(env, lambda t, target: 1)
    assert len(rewards) == 1
    assert record["outcome"] == "abort"
    assert rewards == [pytest.approx(-0.1)]


def test_wrong_answer_fails_and_ends_the_trial():
    env = neurobench.make("PerceptualDecisionMaking")
    record, rewards = _run(env, lambda t, target: 0 if target == 0 else 3 - target)
    assert record["outcome"] == "fail"
    assert rewards[-1] == 0.0
    assert len(rewards) == 22  # answered at the first decision step


def test_no_answer_is_a_miss_with_the_miss_reward():
    env = neurobench.make("DelayMatchSample", rewards={"miss": -0.5})
    record, rewards = _run(env, lambda t, target: 0)
    assert record["outcome"] == "miss"
    assert rewards[-1] == -0.5
    assert len(rewards) == 3 + 5 + 10 + 5 + 9  # the whole trial: fixation..decision


def test_answers_outside_windows_and_hold_periods_are_free():
    env = neurobench.make("DelayMatchSample")
    record, rewards = _run(env, lambda t, target: target if target else (1 if 3 <= t < 18 else 0))
    assert record["outcome"] == "correct"
    assert sum(rewards[3:18]) == 0.0  # sample and delay periods are not held (as in NeuroGym)


def test_go_nogo_withholding_on_nogo_trials_is_correct():
    env = neurobench.make("DelayPairedAssociation", trials_per_episode=None)
    env.reset(seed=1)
    outcomes = {}
    while len(outcomes) < 2:
        _, reward, _, _, info = env.step(0)
        if info["new_trial"]:
            record = info["trial"]
            outcomes[record["ground_truth"]] = (record["outcome"], reward)
    assert outcomes[0] == ("correct", 0.0)  # no-go: keep fixating
    assert outcomes[1] == ("miss", 0.0)  # go: failing to respond


def test_go_on_a_nogo_trial_is_punished():
    env = neurobench.make("DelayPairedAssociation", trials_per_episode=None)
    env.reset(seed=1)
    while True:
        go_now = env.trial.conditions["ground_truth"][0] == 0 and env.step_in_trial == 40
        _, reward, _, _, info = env.step(1 if go_now else 0)
        if info["new_trial"] and info["trial"]["ground_truth"] == 0:
            assert info["trial"]["outcome"] == "fail"
            assert reward == -1.0
            break


def test_dual_task_scores_both_answers_and_skips_after_the_first():
    env = neurobench.make("DualDelayMatchSample")
    env.reset(seed=3)
    periods = env.trial.periods
    test1_start, test1_end = periods["test1"][0][0], periods["test1"][1][0]
    steps, info = [], {"target": 0}
    for _ in range(60):
        t = env.step_in_trial
        _, reward, _, _, info = env.step(info["target"])
        steps.append((t, reward))
        if info["new_trial"]:
            break
    assert info["trial"]["outcome"] == "correct"
    times = [t for t, _ in steps]
    assert test1_start in times
    assert times[times.index(test1_start) + 1] == test1_end  # jumped to the end of test1
    assert sum(r for _, r in steps) == 2.0


def test_dual_task_missing_the_first_answer_is_a_miss_even_if_the_second_is_right():
    env = neurobench.make("DualDelayMatchSample")
    env.reset(seed=3)
    test2 = env.trial.periods["test2"][0][0]
    info = {"target": 0}
    while True:
        action = info["target"] if env.step_in_trial >= test2 else 0
        _, _, _, _, info = env.step(action)
        if info["new_trial"]:
            assert info["trial"]["outcome"] == "miss"
            break


def test_rule_tables_agree_with_direct_evaluation():
    """The single env's lookup tables are the rule evaluated per step, as the vector env does."""
    from neurobench.core.env import tabulate
    from neurobench.core.rules import advance
    from neurobench.core.stream import TrialStream

    task = neurobench.make_task("DualDelayMatchSample", abort=True)
    chunk = TrialStream.seeded(task, 0).next_chunk()
    tables = tabulate(task, chunk)
    rng = np.random.default_rng(0)
    trial = rng.integers(chunk.n, size=500)
    t = rng.integers(chunk.length[trial])
    action = rng.integers(3, size=500)
    reward, event, move = task.rule.respond(chunk.phase[trial, t], chunk.target[trial, t], action)
    next_t = advance(move, t, chunk.length[trial], chunk.resume[trial, t])
    for table, values in zip(tables, (reward, event, next_t), strict=True):
        np.testing.assert_array_equal(table[trial, t, action], values)
