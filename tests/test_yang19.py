"""Yang et al. 2019's tasks and Mod-Cog's compositions: the paper's criterion, rings, rule
inputs, timing and geometry; the multitask collections. (``check_task`` runs on every
id in test_conformance.)"""

import numpy as np
import pandas as pd
import pytest

import neurobench
from neurobench.agents import IdealObserver
from neurobench.core.stream import TrialStream
from neurobench.evaluate import evaluate
from neurobench.tasks.modcog import compositions
from neurobench.tasks.yang19 import RULES, ring_accepts


def _first_trial(env, seed, answer_offset=None, break_at=None):
    """Play one trial: fixate, break fixation at step ``break_at`` or answer the target's
    unit plus ``answer_offset`` units on the window's first step; return its outcome."""
    _, info = env.reset(seed=seed)
    d = env.unwrapped.task.dim_ring
    for step in range(10_000):
        action = 0
        if break_at is not None and step == break_at:
            action = 1
        elif info["window"] and answer_offset is not None:
            action = (int(info["target"]) - 1 + answer_offset) % d + 1
        _, _, _, _, info = env.step(action)
        if "trial" in info:
            return info["trial"]["outcome"]
    raise AssertionError("the trial did not end")


@pytest.mark.parametrize("offset", [35, -35, 0])
def test_an_answer_within_36_degrees_is_correct(offset):
    env = neurobench.make("yang19.go", dim_ring=360, sigma=0.0)  # one unit per degree
    assert _first_trial(env, 0, answer_offset=offset) == "correct"


@pytest.mark.parametrize("offset", [37, -37, 36, 180])
def test_an_answer_36_degrees_or_more_away_fails(offset):
    env = neurobench.make("yang19.go", dim_ring=360, sigma=0.0)
    assert _first_trial(env, 0, answer_offset=offset) == "fail"


def test_breaking_fixation_before_the_go_cue_ends_the_trial_as_an_abort():
    env = neurobench.make("yang19.dlygo")
    assert _first_trial(env, 3, break_at=4) == "abort"


def test_the_accept_matrix_is_the_ring_criterion_and_chance_follows_from_it():
    accepts = ring_accepts(32)
    assert accepts[1].sum() == 7  # 0, +-11.25, +-22.5, +-33.75 degrees; 45 is out
    assert accepts[0, 0]
    assert not accepts[0, 1:].any()
    assert np.array_equal(accepts, accepts.T)
    assert neurobench.make_task("yang19.go").chance().value == pytest.approx(7 / 32)
    assert neurobench.make_task("yang19.dms").chance().value == 0.5  # withhold: half the trials are no-go


def test_inputs_are_the_papers_rings_and_rule():
    task = neurobench.make_task("yang19.ctxdm2")
    assert task.observation_space.shape == (85,)
    assert task.action_space.n == 33
    batch = TrialStream(task, 0).take(200)
    rule = batch.obs[..., 65:]
    valid = np.arange(batch.max_length)[None, :] < batch.length[:, None]
    mean_rule = (rule * valid[..., None]).sum(axis=(0, 1)) / valid.sum()
    assert np.argmax(mean_rule) == RULES.index("ctxdm2")
    assert mean_rule[RULES.index("ctxdm2")] == pytest.approx(1.0, abs=0.01)  # on all trial long
    noise = batch.obs[..., 65 + RULES.index("go")][valid]
    assert noise.std() == pytest.approx(0.01 * np.sqrt(2 * 100 / 20), rel=0.05)  # sigma_x sqrt(2 / alpha)


def _durations(task, period, n=4000):
    batch = TrialStream(task, 0).take(n)
    start, end = batch.periods[period]
    return (end - start) * task.dt


@pytest.mark.parametrize(
    ("name", "period", "values"),
    [
        ("yang19.dlygo", "fixation", {300, 500, 700}),
        ("yang19.dlygo", "stimulus", {200, 400, 600}),
        ("yang19.dlygo", "delay", {200, 400, 800, 1600}),
        ("yang19.dm1", "stimulus", {400, 800, 1600}),
        ("yang19.dlydm1", "stim2", {200, 400, 600}),
        ("yang19.dmc", "decision", {200, 400, 600}),
        ("yang19.dms", "decision", {500}),
        ("modcog.dlygointr", "delay", set(range(0, 1200, 100))),
    ],
)
def test_epochs_follow_the_papers_distributions(name, period, values):
    assert set(np.unique(_durations(neurobench.make_task(name), period))) == values


def test_uniform_epochs_cover_their_range():
    fixation = _durations(neurobench.make_task("yang19.go"), "fixation")
    assert fixation.min() >= 300
    assert fixation.max() < 700
    assert abs(fixation.mean() - 490) < 6  # uniform 300-700, floored to the 20 ms step (the paper's int(ms / dt))


def _conditions(name, n=4000):
    return TrialStream(neurobench.make_task(name), 1).take(n).conditions


def test_geometry_of_stimuli_and_answers():
    d = 32
    dm = _conditions("yang19.dm1")
    separation = np.abs((dm["second"] - dm["first"] + d // 2) % d - d // 2)
    assert separation.min() == d // 4  # 90 degrees
    assert separation.max() == d // 2  # 180 degrees
    anti = _conditions("yang19.anti")
    assert np.all((anti["ground_truth"] - anti["stimulus"]) % d == d // 2)
    dms = _conditions("yang19.dms")
    offset = np.abs((dms["test"] - dms["sample"] + d // 2) % d - d // 2)
    assert np.all(offset[~dms["match"]] >= 2)  # at least 20 degrees apart
    assert abs(dms["match"].mean() - 0.5) < 0.03
    dmc = _conditions("yang19.dmc")
    assert not np.isin(np.concatenate([dmc["sample"], dmc["test"]]), [0, d // 2]).any()  # off the boundary
    dnmc = _conditions("yang19.dnmc")
    assert np.all((dnmc["ground_truth"] >= 0) == ~dnmc["match"])  # go on non-match only


def test_integration_rotates_the_answer_by_the_delay():
    task = neurobench.make_task("modcog.dlygointl")
    batch = TrialStream(task, 2).take(2000)
    start, end = batch.periods["delay"]
    delay = (end - start) * task.dt
    rotation = (batch.conditions["stimulus"] - batch.conditions["ground_truth"]) % 32  # intl: rotated backwards
    np.testing.assert_array_equal(rotation, (delay / 100 * 2).astype(int) % 32)  # 22.5 degrees per 100 ms


def test_a_sequence_answer_moves_one_step_per_segment():
    task = neurobench.make_task("modcog.goseql")
    batch = TrialStream(task, 3).take(50)
    targets = []
    for k in range(10):
        start, _ = batch.periods[f"seq{k + 1}"]
        targets.append(batch.target[np.arange(batch.n), start] - 1)
    moves = (np.diff(np.stack(targets, axis=1), axis=1)) % 32
    assert np.all(moves == 30)  # -2 units (-22.5 degrees) per 100 ms


def test_mod_cogs_task_list():
    names = compositions()
    assert len(names) == 73
    assert len(neurobench.make_task("ModCog").tasks) == 93
    for name in ("dlygointr", "dnmcintl", "rtantiseqr", "dnmcseql", "dmsintseq"):
        assert name in names
    assert len(neurobench.tasks(family="modcog")) == 73
    assert len(neurobench.tasks(family="yang19")) == 20


def test_the_yang19_multitask_has_one_observation_size_and_the_papers_task_shares():
    env = neurobench.make("Yang19")
    obs, _info = env.reset(seed=0)
    sizes = {obs.shape}
    rng = np.random.default_rng(0)
    for _ in range(10_000):
        obs, _reward, terminated, truncated, _info = env.step(int(rng.integers(33)) if rng.random() < 0.05 else 0)
        sizes.add(obs.shape)
        if terminated or truncated:
            obs, _info = env.reset()
            sizes.add(obs.shape)
    assert sizes == {(85,)}
    task = neurobench.make_task("Yang19")
    ids = TrialStream(task, 0).take(20_000).conditions["task"]
    shares = np.bincount(ids, minlength=20) / len(ids)
    assert shares[RULES.index("ctxdm1")] == pytest.approx(5 / 28, abs=0.01)
    assert shares[RULES.index("go")] == pytest.approx(1 / 28, abs=0.005)


def test_the_mod_cog_collection_names_each_task_with_its_own_rule_input():
    task = neurobench.make_task("ModCog")
    assert task.observation_space.shape == (65 + 93,)
    batch = TrialStream(task, 0).take(500)
    rule = batch.obs[:, 0, task.obs_channels["rule"]]
    np.testing.assert_array_equal(rule.argmax(axis=1), batch.conditions["task"])


def _per_task_observers(task):
    from neurobench.agents.reference import ByRule

    return ByRule([IdealObserver() for _ in task.tasks], task.tasks, task.rule_slice)


def test_a_collections_one_pass_observer_plays_as_its_tasks_observers_do():
    """One ring observer over all tasks of a collection (per-env task parameters) gives
    the records of one observer per task, each on its own task's envs."""
    task = neurobench.make_task("Yang19")
    one_pass = evaluate(IdealObserver(), task, seed=2, n_trials=200, num_envs=32)
    per_task = evaluate(_per_task_observers(task), task, seed=2, n_trials=200, num_envs=32)
    pd.testing.assert_frame_equal(one_pass, per_task)
    assert one_pass["score"].mean() > 0.95


def test_a_collections_one_pass_guess_plays_as_its_tasks_constant_answers_do():
    from neurobench.agents import GuessAgent
    from neurobench.agents.reference import ByRule, ConstantAnswersByRule

    task = neurobench.make_task("ModCog")
    assert isinstance(task.blind_policy(), ConstantAnswersByRule)
    one_pass = evaluate(GuessAgent(), task, seed=2, n_trials=200, num_envs=32)
    per_task = ByRule([t.blind_policy() for t in task.tasks], task.tasks, task.rule_slice)
    pd.testing.assert_frame_equal(one_pass, evaluate(per_task, task, seed=2, n_trials=200, num_envs=32))


def test_the_collections_observer_reads_the_rule_over_the_trial():
    """Under heavy input noise a single step's rule input misnames the task; the trial's
    summed rule input (the likeliest task) does not, and plays far better."""
    task = neurobench.make_task({"id": "Yang19", "params": {"task_params": {"sigma": 2.0}}})
    one_pass = evaluate(IdealObserver(), task, seed=5, n_trials=200, num_envs=32)["score"].mean()
    per_step = evaluate(_per_task_observers(task), task, seed=5, n_trials=200, num_envs=32)["score"].mean()
    assert one_pass > per_step + 0.15


def test_the_decision_bound_holds_and_is_tight_when_noise_matters():
    """At 20 times the paper's noise the DM ceiling falls well below 1: the near-ideal
    observer (which does not know the strengths) scores under the bound, but close."""
    task = neurobench.make_task("yang19.dm1", sigma=20 * 0.01 * np.sqrt(200))
    bound = task.ceiling()
    assert bound.kind == "bound"
    assert 0.6 < bound.value < 0.95
    score = evaluate(IdealObserver(), task, seed=4, n_trials=3000)["score"].mean()
    se = np.sqrt(bound.value * (1 - bound.value) / 3000)
    assert score <= bound.value + 4 * se
    assert score >= bound.value - 0.05


def test_bad_parameters_are_refused_clearly():
    with pytest.raises(neurobench.InvalidParameterError, match=r"dim_ring .* must be even"):
        neurobench.make_task("yang19.go", dim_ring=31)
    with pytest.raises(neurobench.InvalidParameterError, match="no memory delay to integrate"):
        neurobench.make_task("yang19.go", integrate=1, rule_input=False)
    with pytest.raises(neurobench.InvalidParameterError, match="rule_input names one of"):
        neurobench.make_task("yang19.dlygo", integrate=1)
    with pytest.raises(neurobench.UnknownNameError, match="modalities"):
        neurobench.make_task("yang19.dm1", modalities="3")


def test_a_composition_direction_outside_minus_one_to_one_is_refused():
    with pytest.raises(neurobench.InvalidParameterError, match=r"integrate .* must be -1, 0 or 1, got 2"):
        neurobench.make_task("yang19.dlygo", integrate=2, rule_input=False)
