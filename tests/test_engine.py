"""The engine under its Gymnasium faces: the single env, the native vector env, their
agreement, autoreset, sessions, random access and bad actions."""

import copy

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobench
from neurobench import InvalidActionError, InvalidParameterError
from neurobench.core.stream import SessionStream, TrialStream
from tests.conftest import TASKS


def _oracle(info, continuous):
    return np.asarray(info["target"], dtype=np.float32) if continuous else np.asarray(info["target"])


@pytest.mark.parametrize("name", TASKS)
def test_vector_env_follows_the_vector_api(name):
    env = neurobench.make_vec(name, num_envs=5)
    single = neurobench.make(name)
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == single.action_space
    assert env.observation_space.shape == (5, *single.observation_space.shape)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space
    for _ in range(80):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs in env.observation_space
        assert obs.dtype == np.float32
        assert reward.shape == terminated.shape == truncated.shape == (5,)
        assert reward.dtype == np.float64
        assert terminated.dtype == truncated.dtype == bool
        assert info["new_trial"].shape == info["window"].shape == (5,)
        if "trial" in info:
            assert all(len(v) == 5 for v in info["trial"].values())
            assert set(np.unique(info["trial"]["outcome"][info["_trial"]])) <= {1, 2, 3, 4}


def test_gymnasium_make_and_make_vec_by_id_take_render_mode_and_use_the_native_vector_env():
    env = gym.make("neurobench/DelayMatchSample-v1", render_mode=None, dt=50)
    assert env.unwrapped.task.dt == 50
    vec = gym.make_vec("neurobench/DelayMatchSample-v1", num_envs=3, dt=50)
    assert isinstance(vec.unwrapped, neurobench.TaskVectorEnv)
    assert vec.reset(seed=0)[0].shape == (3, 3)
    games = gym.make_vec("neurobench/MatchingPennies-v1", num_envs=4)
    assert isinstance(games.unwrapped, neurobench.TaskVectorEnv)  # games too: no SyncVectorEnv fallback
    sync = gym.make_vec("neurobench/DelayMatchSample-v1", num_envs=2, vectorization_mode="sync")
    assert sync.reset(seed=0)[0].shape == (2, 3)


def test_rgb_array_rendering_draws_the_last_trials():
    env = neurobench.make("PerceptualDecisionMaking", render_mode="rgb_array")
    _, info = env.reset(seed=0)
    for _ in range(50):
        _, _, _, _, info = env.step(int(info["target"]))
    image = env.render()
    assert image.ndim == 3
    assert image.shape[2] == 3
    assert image.dtype == np.uint8
    assert image.shape[0] > 200
    assert image.std() > 10
    with pytest.raises(InvalidParameterError, match="render_mode 'human'"):
        neurobench.make("PerceptualDecisionMaking", render_mode="human")


@pytest.mark.parametrize(
    "name", ["PerceptualDecisionMaking", "DualDelayMatchSample", "ReadySetGo", "ReachingDelayResponse"]
)
def test_many_envs_run_the_single_envs_trials_spread_over_columns(name):
    """Independent trials are dealt from the seed's one stream: the vector env plays
    exactly the trials the single env would, whichever column they land in."""
    task = neurobench.make_task(name)
    vec = neurobench.make_vec(task, num_envs=7, trials_per_episode=None)
    obs, info = vec.reset(seed=3)
    first_obs = {}
    for _ in range(400):
        for e in range(7):
            if info["new_trial"][e] or info["step"][e] == 0:
                first_obs.setdefault(int(info["trial_index"][e]), obs[e].copy())
        obs, _, _, _, info = vec.step(_oracle(info, task.continuous))
    stream = TrialStream(task, 3).take(max(first_obs) + 1)
    for index, seen in first_obs.items():
        np.testing.assert_array_equal(seen, stream.obs[index, 0])


def test_sequential_tasks_run_a_session_per_column_deterministically():
    task = neurobench.make_task("DawTwoStep")
    vec = neurobench.make_vec(task, num_envs=4, trials_per_episode=None)
    obs, info = vec.reset(seed=1)
    sessions = set()
    for _ in range(100):
        obs, _, _, _, info = vec.step(np.asarray(info["target"]))
        sessions |= set((info["trial_index"] // SessionStream.SESSION_STRIDE).tolist())
        np.testing.assert_array_equal(info["trial_index"] // SessionStream.SESSION_STRIDE, np.arange(4))
    assert sessions == {0, 1, 2, 3}
    again = neurobench.make_vec(task, num_envs=4, trials_per_episode=None)
    obs2, info2 = again.reset(seed=1)
    for _ in range(100):
        obs2, _, _, _, info2 = again.step(np.asarray(info2["target"]))
    np.testing.assert_array_equal(obs2, obs)  # and the same seed, the same sessions


def test_sequential_session_zero_of_one_lane_is_the_single_env():
    task = neurobench.make_task({"id": "TrialHistory", "task": "PerceptualDecisionMaking"})
    single = neurobench.make(task, trials_per_episode=None)
    vec = neurobench.make_vec(task, num_envs=1, trials_per_episode=None)
    a, ia = single.reset(seed=9)
    b, ib = vec.reset(seed=9)
    for _ in range(300):
        np.testing.assert_array_equal(a, b[0])
        a, ra, _, _, ia = single.step(int(ia["target"]))
        b, rb, _, _, ib = vec.step(np.asarray(ib["target"]))
        assert ra == rb[0]


def test_next_step_autoreset_ignores_the_action_and_restarts_the_episode():
    vec = neurobench.make_vec("PerceptualDecisionMaking", num_envs=2, trials_per_episode=1)
    obs, info = vec.reset(seed=0)
    done = np.zeros(2, dtype=bool)
    while not done.all():
        obs, reward, _, truncated, info = vec.step(np.asarray(info["target"]))
        done |= truncated
    assert truncated.all()
    after, reward, _, truncated, info = vec.step(np.array([1, 1]))  # ignored: these envs reset
    np.testing.assert_array_equal(after, obs)
    assert (reward == 0).all()
    assert not truncated.any()
    assert not info["new_trial"].any()


def test_same_step_autoreset_returns_the_final_observation():
    vec = neurobench.make_vec("GoNogo", num_envs=3, trials_per_episode=2, autoreset_mode="SameStep")
    _, info = vec.reset(seed=0)
    for _ in range(60):
        _, _, _, truncated, info = vec.step(np.asarray(info["target"]))
        if truncated.any():
            assert np.array_equal(info["_final_obs"], truncated)
            break
    else:
        pytest.fail("no episode ended")
    with pytest.raises(InvalidParameterError, match="autoreset_mode 'Disabled'"):
        neurobench.make_vec("GoNogo", num_envs=2, autoreset_mode="Disabled")


def test_reset_mask_restarts_only_some_environments():
    vec = neurobench.make_vec("DelayMatchSample", num_envs=3, trials_per_episode=None)
    _, info = vec.reset(seed=0)
    for _ in range(4):
        _, _, _, _, info = vec.step(np.zeros(3, dtype=np.int64))
    _, info = vec.reset(options={"reset_mask": np.array([True, False, False])})
    assert info["step"][0] == 0
    assert (info["step"][1:] == 4).all()


@pytest.mark.parametrize(
    ("name", "action", "fragment"),
    [
        ("PerceptualDecisionMaking", np.array([0, 5]), "action 5 of environment 1"),
        ("PerceptualDecisionMaking", np.array([0.0, 1.0]), "integer array of shape"),
        ("PerceptualDecisionMaking", np.array([0]), "shape (2,)"),
        ("ReachingDelayResponse", np.array([[0.0, np.nan], [0.0, 0.0]]), "must be finite and within"),
        ("ReachingDelayResponse", np.array([[0.0, 3.0], [0.0, 0.0]]), "environment 0"),
        ("ReachingDelayResponse", np.array([0, 1]), "float array of shape (2, 2)"),
        ("MatchingPennies", np.array([0, -1]), "environment 1"),
    ],
)
def test_bad_actions_are_refused_clearly_and_change_nothing(name, action, fragment):
    vec = neurobench.make_vec(name, num_envs=2)
    vec.reset(seed=0)
    before = copy.deepcopy(vec.engine.__dict__)
    with pytest.raises(InvalidActionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        vec.step(action)
    after = vec.engine.__dict__
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)


@pytest.mark.parametrize(
    ("name", "action", "fragment"),
    [
        ("PerceptualDecisionMaking", 3, "valid actions: 0=fixation, 1=choice[0], 2=choice[1]"),
        ("PerceptualDecisionMaking", 1.0, "not in the action space"),
        ("ReachingDelayResponse", np.array([0.0, np.nan]), "finite numbers"),
        ("ReachingDelayResponse", np.array([0.0]), "give 2 finite numbers"),
        ("MatchingPennies", 7, "Discrete(3)"),
    ],
)
def test_the_single_env_refuses_bad_actions_clearly(name, action, fragment):
    env = neurobench.make(name)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=fragment.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        env.step(action)


def test_any_trial_is_drawn_without_the_ones_before_it():
    task = neurobench.make_task("DelayMatchSample")
    whole = TrialStream(task, 5).take(3 * task.chunk_size)
    late = np.array([task.chunk_size * 2 + 7])
    np.testing.assert_array_equal(TrialStream(task, 5).trials(late).obs, whole.take(late).obs)
    engine = task.engine(1)
    obs, view = engine.reset(5, start=int(late[0]))
    assert view.trial[0] == late[0]
    np.testing.assert_array_equal(obs[0], whole.obs[late[0], 0])


@settings(max_examples=40, deadline=None)
@given(stride=st.integers(1, 5), data=st.data())
def test_the_rest_of_a_chunk_is_the_streams_next_trials_up_to_that_chunks_end(stride, data):
    task = neurobench.make_task("PerceptualDecisionMaking")
    offset = data.draw(st.integers(0, stride - 1))
    start = data.draw(st.integers(0, 2 * task.chunk_size // stride))
    stream = TrialStream(task, 4, start=start, offset=offset, stride=stride)
    plain = TrialStream(task, 4, start=start, offset=offset, stride=stride)
    for _ in range(3):
        part = stream.take_rest_of_chunk()
        chunks = part.index // task.chunk_size
        assert part.n >= 1
        assert (chunks == chunks[0]).all()
        assert (offset + stride * stream.position) // task.chunk_size == chunks[0] + 1  # next is the next chunk
        np.testing.assert_array_equal(part.obs, plain.take(part.n).obs)


def test_a_stream_gives_repeated_and_consecutive_indices_their_own_trials():
    task = neurobench.make_task("DelayMatchSample")
    whole = TrialStream(task, 1).take(30)
    for picked in ([3, 3, 5], [4, 5, 6], [7]):
        rows = np.array(picked)
        np.testing.assert_array_equal(TrialStream(task, 1).trials(rows).obs, whole.take(rows).obs)


def test_the_engine_view_records_periods_and_the_active_mask_freezes_environments():
    task = neurobench.make_task("DelayMatchSample")
    engine = task.engine(3)
    engine.reset(0)
    names = task.period_names
    assert [names[p] for p in engine.periods()] == ["fixation"] * 3
    result = engine.step(np.zeros(3, dtype=np.int64), active=np.array([True, False, True]))
    assert result.view.step.tolist() == [1, 0, 1]


def test_a_closed_loop_engine_holds_every_state_entry_of_an_inactive_environment():
    from neurobench.core.make import single_agent

    engine = single_agent(neurobench.make_task("MatchingPennies")).engine(4)  # algorithm 2 keeps per-session tables
    engine.reset(0)
    rng = np.random.default_rng(0)
    for _ in range(60):  # some trials, so the opponent's counts are not all zero
        engine.step(rng.integers(3, size=4))
    before = {k: v.copy() for k, v in engine._state.items()}
    active = np.array([True, False, True, True])
    for _ in range(40):
        result = engine.step(rng.integers(3, size=4), active=active)
        assert result.reward[1] == 0.0
        assert not result.ended[1]
    for k, v in before.items():
        np.testing.assert_array_equal(engine._state[k][1], v[1], err_msg=k)
    assert not np.array_equal(engine._state["opponent.counts1_2"][0], before["opponent.counts1_2"][0])  # others went on


def test_an_unseeded_reset_continues_the_stream():
    env = neurobench.make("PerceptualDecisionMaking", trials_per_episode=2)
    env.reset(seed=0)
    seen = []
    for _ in range(3):
        info = {"new_trial": False}
        while True:
            _, _, _, truncated, info = env.step(0)
            if info.get("trial"):
                seen.append(info["trial"]["index"])
            if truncated:
                break
        env.reset()
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("n_trials", [1000, 200, 37, 64])
def test_evaluating_sessions_gives_exactly_the_trials_asked_for(n_trials):
    """Sessions of Bandit: 1000 trials over 64 sessions once gave 1008."""
    from neurobench.agents import OracleAgent
    from neurobench.evaluate import evaluate

    records = evaluate(OracleAgent(), "Bandit", seed=1, n_trials=n_trials)
    assert len(records) == n_trials
    assert records["trial"].is_unique


def test_an_answer_with_partial_credit_is_a_success_scored_by_its_credit():
    """The sure bet of PostDecisionWager earns 0.7: a correct trial scored 0.7 (it was a
    'fail' with a non-zero score, which results refuse)."""
    from neurobench.agents import IdealObserver
    from neurobench.evaluate import evaluate

    records = evaluate(IdealObserver(), "PostDecisionWager", seed=0, n_trials=1000)
    sure = records["response"] == 3
    assert sure.any()
    assert set(records.loc[sure, "outcome"]) == {"correct"}
    np.testing.assert_allclose(records.loc[sure, "score"], 0.7)
    assert (records.loc[records["outcome"] != "correct", "score"] == 0).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=40), st.integers(0, 2**16))
def test_interleaving_trials_equals_concatenating_then_reordering(ids, seed):
    """``TrialBatch.interleave`` writes each part into place; it must give what
    ``concat`` then ``take`` gave: every array, period, condition and optional table."""
    from neurobench.core.trials import TrialBatch

    ids = np.asarray(ids)
    # three tasks in a multitask's layout: different lengths, credits and payoffs in some only
    multi = neurobench.make_task({"id": "MultiTask", "tasks": ["GoNogo", "PostDecisionWager", "DelayComparison"]})
    rng = np.random.default_rng(seed)
    parts = {
        k: multi._lift(k, task.sample(rng, int((ids == k).sum())))[0]
        for k, task in enumerate(multi.tasks)
        if (ids == k).any()
    }
    keys = sorted(parts)
    offsets = np.cumsum([0] + [parts[k].n for k in keys])
    order = np.empty(len(ids), dtype=np.int64)
    for k, offset in zip(keys, offsets, strict=False):
        order[ids == k] = offset + np.arange(parts[k].n)
    expected = TrialBatch.concat([parts[k] for k in keys]).take(order)
    got = TrialBatch.interleave(parts, ids)
    for name in ("obs", "target", "length", "phase", "resume", "payoff", "credit", "index"):
        a, b = getattr(expected, name), getattr(got, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert (a.dtype, a.shape) == (b.dtype, b.shape), name
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert list(expected.conditions) == list(got.conditions)
    for key in expected.conditions:
        np.testing.assert_array_equal(expected.conditions[key], got.conditions[key], err_msg=key)
    for key, (start, end) in expected.periods.items():
        np.testing.assert_array_equal(start, got.periods[key][0])
        np.testing.assert_array_equal(end, got.periods[key][1])


@pytest.mark.parametrize(
    "name",
    ["PulseDecisionMaking", "ReadySetGo", "DawTwoStep", "ToneDetection", "yang19.dm1", "PerceptualDecisionMaking"],
)
def test_the_single_env_steps_the_same_whether_it_lists_its_tables_or_reads_them_in_place(name, monkeypatch):
    import neurobench.core.trial_engine as trial_engine

    def play(listed_per_played: float) -> list:
        monkeypatch.setattr(trial_engine, "_LISTED_PER_PLAYED", listed_per_played)
        env = neurobench.make(name)
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        steps = []
        for _ in range(3000):
            obs, reward, _, truncated, info = env.step(int(rng.integers(env.action_space.n)))
            steps.append((obs.tobytes(), reward, repr(info)))
            if truncated:
                env.reset()
        return steps

    assert play(float("inf")) == play(0.0)  # every chunk listed / every chunk read in place
