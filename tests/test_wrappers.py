"""Modifiers: each one's behaviour is measured, composes with the others, and keeps seeding exact."""

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import neurobench
from neurobench.agents import OracleAgent
from neurobench.core.rollout import rollout
from neurobench.core.stream import TrialStream
from neurobench.wrappers import (
    Monitor,
    MultiTask,
    Noise,
    PassAction,
    PassActionVector,
    PassReward,
    PassRewardVector,
    ReactionTime,
    ScheduleAttr,
    SideBias,
    TrialHistory,
    VectorMonitor,
)

PDM = neurobench.make_task("PerceptualDecisionMaking")


def _checked(env):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version.*")
        check_env(env)


def _stream(task, seed, n):
    return TrialStream.seeded(task, seed).take(n)


@pytest.mark.parametrize("k", [2, 4])
def test_trial_history_repeats_and_alternates_with_the_set_probability(k):
    task = TrialHistory(neurobench.make_task("PerceptualDecisionMaking", dim_ring=k), probability=0.8, block_length=300)
    batch = _stream(task, 0, 6000)  # several chunks: the chain continues across them
    gt, block = batch.conditions["ground_truth"], batch.conditions["history_block"]
    same_block = block[1:] == block[:-1]
    repeat = gt[1:] == gt[:-1]
    advance = gt[1:] == (gt[:-1] + 1) % k
    in_repeating = same_block & (block[1:] == 0)
    in_alternating = same_block & (block[1:] == 1)
    assert abs(repeat[in_repeating].mean() - 0.8) < 0.03
    assert abs(advance[in_alternating].mean() - 0.8) < 0.03
    runs = np.diff(np.flatnonzero(np.diff(block) != 0))
    assert np.all(runs == 300)  # blocks of the set length
    assert set(np.unique(gt)) == set(range(k))


def test_side_bias_blocks_have_their_answer_probabilities():
    task = SideBias(PDM, probs=((0.9, 0.1), (0.2, 0.8)), block_dur=100)
    batch = _stream(task, 1, 5000)
    gt, block = batch.conditions["ground_truth"], batch.conditions["bias_block"]
    assert abs((gt[block == 0] == 0).mean() - 0.9) < 0.03
    assert abs((gt[block == 1] == 1).mean() - 0.8) < 0.03
    changes = np.flatnonzero(np.diff(block) != 0)
    assert np.all(np.diff(changes) == 100)


def test_reaction_time_trials_end_at_the_response():
    env = neurobench.make(ReactionTime(PDM), trials_per_episode=None)
    _, info = env.reset(seed=0)
    start = env.trial.periods["stimulus"][0][0]
    assert env.trial.length[0] == env.trial.periods["stimulus"][1][0]  # ends with the stimulus
    for respond_at in (start, start + 3):  # from stimulus onset, any time
        t, steps = env.step_in_trial, 0
        while True:
            action = info["target"] if env.step_in_trial == respond_at else 0
            _, _reward, _, _, info = env.step(action)
            steps += 1
            if info["new_trial"]:
                break
        assert steps == respond_at - t + 1  # the answer ended the trial
        assert info["trial"]["outcome"] == "correct"


def test_reaction_time_can_keep_the_decision_period():
    task = ReactionTime(neurobench.make_task("PerceptualDecisionMaking", timing={"delay": 300}), end_on_stimulus=False)
    batch = _stream(task, 0, 50)
    assert np.all(batch.length == 1 + 20 + 3 + 1)
    start = batch.periods["stimulus"][0][0]
    assert np.all(batch.target[:, start:][:, :24] > 0)  # the answer is due from stimulus onset on


def test_noise_adds_the_set_std_and_stays_seeded():
    clean = neurobench.make_task("DelayMatchSample", sigma=0.0)
    task = Noise(clean, std=0.3, channels=("stimulus",))
    noisy, base = _stream(task, 2, 400), _stream(clean, 2, 400)
    assert noisy.obs.shape == base.obs.shape
    valid = np.arange(noisy.max_length)[None, :] < noisy.length[:, None]
    residual = noisy.obs[valid][:, 1:] - _stream(clean, 2, 400).obs[valid][:, 1:]
    assert residual.std() == pytest.approx(0.3, rel=0.05)
    np.testing.assert_array_equal(noisy.obs[..., 0], base.obs[..., 0])  # fixation left alone
    np.testing.assert_array_equal(_stream(task, 2, 400).obs, noisy.obs)  # same seed, same noise
    assert task.observation_space.high[1] == pytest.approx(clean.observation_space.high[1] + 3.0)


def test_schedule_attr_switches_the_parameter_by_block():
    task = ScheduleAttr(
        neurobench.make_task("PerceptualDecisionMaking", cohs=(0.0,)),
        attribute="sigma",
        values=(0.0, 2.0),
        block_length=50,
    )
    batch = _stream(task, 0, 400)
    block = batch.conditions["block_value"]
    np.testing.assert_array_equal(block, (np.arange(400) // 50) % 2)
    stimulus = batch.obs[:, 2:21, 1]
    assert np.all(stimulus[block == 0] == 0.5)  # sigma 0: noise-free
    assert stimulus[block == 1].std() == pytest.approx(2.0 / np.sqrt(100), rel=0.1)


def test_multitask_schedules_pad_and_cue_the_tasks():
    tasks = ("PerceptualDecisionMaking", "DelayMatchSample", "DelayPairedAssociation")
    sequential = MultiTask(tasks=tasks, schedule="sequential")
    batch = _stream(sequential, 0, 300)
    np.testing.assert_array_equal(batch.conditions["task"], np.arange(300) % 3)
    assert sequential.observation_space.shape == (5 + 3,)  # widest task (5 inputs) + rule input
    rule = sequential.obs_channels["rule"]
    valid = np.arange(batch.max_length)[None, :] < batch.length[:, None]
    cue = batch.obs[..., rule].argmax(axis=-1)
    assert np.all(cue[valid] == np.broadcast_to(batch.conditions["task"][:, None], valid.shape)[valid])
    pdm = batch.conditions["task"] == 0
    assert not batch.obs[pdm][..., 3:5].any()  # PDM has 3 inputs: the rest is padding
    blocks = _stream(MultiTask(tasks=tasks, schedule="blocks", block_length=7), 0, 70).conditions["task"]
    np.testing.assert_array_equal(blocks, (np.arange(70) // 7) % 3)
    randomly = _stream(MultiTask(tasks=tasks, schedule="random"), 0, 3000).conditions["task"]
    assert np.all(np.abs(np.bincount(randomly) / 3000 - 1 / 3) < 0.04)


def test_nested_multitask_keeps_every_observation_the_right_size():
    inner = MultiTask(tasks=("PerceptualDecisionMaking", "DelayMatchSample"), schedule="sequential")
    outer = MultiTask(tasks=(inner, "DelayComparison"), schedule="sequential")
    env = neurobench.make(outer)
    _checked(env)
    record = rollout(env, OracleAgent(), n_trials=60, seed=0)
    assert record.obs.shape[1] == outer.observation_space.shape[0]
    assert record.outcomes() == ["correct"] * 60
    vec = neurobench.make_vec(outer, num_envs=8)
    obs, info = vec.reset(seed=0)
    for _ in range(100):
        obs, *_, info = vec.step(info["target"])
        assert obs.shape == (8, outer.observation_space.shape[0])
        assert obs in vec.observation_space


@pytest.mark.parametrize(
    "task",
    [
        ReactionTime(PDM),
        Noise(PDM, std=0.2),
        TrialHistory(PDM),
        SideBias(PDM),
        ScheduleAttr(PDM, attribute="cohs", values=((51.2,), (6.4, 12.8)), block_length=20),
        MultiTask(),
        Noise(ReactionTime(TrialHistory(PDM)), std=0.1),
    ],
    ids=lambda t: t.name,
)
def test_modified_tasks_pass_the_env_checker_seed_exactly_and_reach_every_consumer(task):
    _checked(neurobench.make(task))
    first = _stream(task, 5, 300)
    again = _stream(task, 5, 300)
    np.testing.assert_array_equal(first.obs, again.obs)
    assert not np.array_equal(first.obs, _stream(task, 6, 300).obs)
    record = rollout(neurobench.make(task), OracleAgent(), n_trials=40, seed=5)
    assert record.outcomes() == ["correct"] * 40
    inputs, _targets = neurobench.Dataset(task, batch_size=2, seq_len=30, seed=5).draw()
    assert inputs.shape == (2, 30, task.observation_space.shape[0])
    vec = neurobench.make_vec(task, num_envs=4)
    assert vec.reset(seed=5)[0].shape == (4, task.observation_space.shape[0])


def test_env_modifiers_pass_reward_and_action_and_monitor_trials(tmp_path):
    env = Monitor(PassAction(PassReward(neurobench.make("PerceptualDecisionMaking"))))
    _checked(env)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3 + 1 + 3,)
    assert not obs[3:].any()
    obs, *_ = env.step(1)  # break fixation: reward -0.1, action 1
    assert obs[3] == pytest.approx(-0.1)
    np.testing.assert_array_equal(obs[4:], [0, 1, 0])
    for _ in range(200):
        obs, _reward, _, _, info = env.step(info["target"] if info.get("window") else 0)
    records = env.records
    assert len(records) >= 8
    assert {"index", "outcome", "reward", "ground_truth", "coh", "step"} <= set(records.columns)
    assert env.performance() == pytest.approx((records["outcome"] == "correct").mean())
    saved = env.save(tmp_path / "trials.csv")
    assert saved.read_text().startswith("index,outcome")
    assert env.plot().axes[0].get_ylabel() == "success"


def test_vector_env_modifiers():
    vec = VectorMonitor(PassActionVector(PassRewardVector(neurobench.make_vec("DelayMatchSample", num_envs=4))))
    obs, info = vec.reset(seed=0)
    assert obs.shape == (4, 3 + 1 + 3)
    actions = np.array([0, 1, 2, 0])
    obs, rewards, *_ = vec.step(actions)
    np.testing.assert_array_equal(obs[:, 4:], np.eye(3)[actions])
    np.testing.assert_allclose(obs[:, 3], rewards)
    for _ in range(100):
        obs, *_, info = vec.step(info["target"])
    assert len(vec.records) > 4
    assert set(vec.records["env"]) == {0, 1, 2, 3}


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: MultiTask(tasks=()), "at least one task"),
        (lambda: MultiTask(tasks=("PerceptualDecisionMaking", "IntervalDiscrimination")), "must share dt"),
        (lambda: MultiTask(schedule="shuffled"), "Unknown schedule 'shuffled'"),
        (lambda: ReactionTime(neurobench.make_task("DelayMatchSample")), "needs a task with a 'stimulus' period"),
        (lambda: Noise(PDM, std=-1), "std must be a finite number >= 0"),
        (lambda: Noise(PDM, channels=("stimuli",)), "Did you mean 'stimulus'"),
        (lambda: TrialHistory(PDM, probability=1.5), "probability must be in"),
        (lambda: TrialHistory(PDM, condition="truth"), "Unknown condition"),
        (lambda: SideBias(PDM, probs=((0.5, 0.2), (0.5, 0.5))), "summing to 1"),
        (lambda: ScheduleAttr(PDM, attribute="colour", values=(1,)), "Unknown parameter of PerceptualDecisionMaking"),
        (lambda: Noise(PDM, sd=0.1), "unexpected keyword argument 'sd'"),
    ],
)
def test_bad_modifier_parameters_are_rejected_clearly(make, fragment):
    with pytest.raises((neurobench.NeuroBenchError, TypeError), match=fragment):
        make()
