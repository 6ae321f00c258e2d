"""The supervised Dataset: batches, dealing, determinism, sharding, resuming, end_at_answer."""

import json

import numpy as np
import pytest

import neurobench
from neurobench import InvalidParameterError, UnknownNameError
from neurobench.core.stream import TrialStream


def _concatenated(task, seed, n_steps, stride=1, offset=0):
    stream = TrialStream(task, seed, offset=offset, stride=stride)
    obs = []
    while sum(len(o) for o in obs) < n_steps:
        batch = stream.take(64)
        obs += [batch.obs[i, : batch.length[i]] for i in range(batch.n)]
    return np.concatenate(obs)[:n_steps]


def test_batch_shapes_and_dtypes(trial_task_name):
    ds = neurobench.Dataset(trial_task_name, batch_size=8, seq_len=50, seed=0)
    inputs, targets = ds.draw()
    assert inputs.shape == (8, 50, ds.task.obs_channels.size)
    assert inputs.dtype == np.float32
    assert targets.shape[:2] == (8, 50)
    if not ds.task.continuous:
        assert np.issubdtype(targets.dtype, np.integer)
        assert targets.max() < ds.task.n_actions


def test_one_row_is_the_single_env_trial_sequence():
    task = neurobench.make_task("DelayComparison")
    ds = neurobench.Dataset(task, batch_size=1, seq_len=70, seed=9)
    inputs = np.concatenate([ds.draw()[0][0] for _ in range(30)])
    np.testing.assert_array_equal(inputs, _concatenated(task, 9, len(inputs)))
    env = neurobench.make(task, trials_per_episode=None)
    obs, _ = env.reset(seed=9)
    stepped = [obs] + [env.step(0)[0] for _ in range(len(inputs) - 1)]  # fixating sees every step
    np.testing.assert_array_equal(np.array(stepped), inputs)


def test_rows_hold_the_stream_trials_dealt_in_rounds():
    task = neurobench.make_task("IntervalDiscrimination")  # trials of varying length
    ds = neurobench.Dataset(task, batch_size=5, seq_len=23, seed=2)
    stream = TrialStream(task, 2).take(400)
    position, rows_of = {}, {}
    for _ in range(12):
        inputs, targets = ds.draw()
        for row in range(5):
            for s in range(23):
                index = int(ds.trial_index[row, s])
                step = position.get((row, index), 0)
                np.testing.assert_array_equal(inputs[row, s], stream.obs[index, step])
                assert targets[row, s] == stream.target[index, step]
                position[(row, index)] = step + 1
                rows_of.setdefault(index, set()).add(row)
    assert all(len(rows) == 1 for rows in rows_of.values())  # a trial belongs to one row
    assert sorted(rows_of) == list(range(len(rows_of)))  # dealt in order, none skipped


def test_same_seed_same_batches_different_seed_different():
    a, b, c = (neurobench.Dataset("PerceptualDecisionMaking", batch_size=4, seq_len=30, seed=s) for s in (1, 1, 2))
    for _ in range(20):
        (xa, ya), (xb, yb), (xc, _) = a.draw(), b.draw(), c.draw()
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(xa, xc)


@pytest.mark.parametrize("workers", [2, 3])
def test_sharded_workers_read_disjoint_shares_that_together_are_the_stream(workers):
    task = neurobench.make_task("DelayMatchSample")
    seen = []
    for k in range(workers):
        ds = neurobench.Dataset(task, batch_size=3, seq_len=60, seed=4, shard=(k, workers))
        indices = set()
        for _ in range(10):
            ds.draw()
            indices |= set(ds.trial_index.ravel().tolist())
        assert all(i % workers == k for i in indices)  # worker k reads trials k, k + W, ...
        seen.append(indices)
        one_row = neurobench.Dataset(task, batch_size=1, seq_len=200, seed=4, shard=(k, workers))
        np.testing.assert_array_equal(one_row.draw()[0][0], _concatenated(task, 4, 200, stride=workers, offset=k))
    union = set.union(*seen)
    assert len(union) == sum(len(s) for s in seen)  # disjoint
    full = set(range(min(max(s) for s in seen)))
    assert full <= union  # no trial of the stream is skipped below what every worker reached


@pytest.mark.parametrize("name", ["DelayMatchSample", "IntervalDiscrimination", "DawTwoStep"])
def test_a_resumed_dataset_continues_bit_identically(name):
    ds = neurobench.Dataset(name, batch_size=4, seq_len=37, seed=11, end_at_answer=True)
    for _ in range(7):
        ds.draw()
    state = json.loads(json.dumps(ds.state()))  # JSON-able: saved in a checkpoint
    expected = [ds.draw() for _ in range(5)]
    resumed = neurobench.Dataset(name, batch_size=4, seq_len=37, end_at_answer=True, state=state)
    for batch, (inputs, targets) in zip(expected, (resumed.draw() for _ in range(5)), strict=True):
        np.testing.assert_array_equal(batch[0], inputs)
        np.testing.assert_array_equal(batch[1], targets)


def test_resuming_refuses_a_state_of_another_dataset():
    state = neurobench.Dataset("DelayMatchSample", batch_size=2, seq_len=10, seed=0).state()
    with pytest.raises(InvalidParameterError, match="shape"):
        neurobench.Dataset("DelayMatchSample", batch_size=3, seq_len=10, state=state)
    with pytest.raises(InvalidParameterError, match="task"):
        neurobench.Dataset("GoNogo", batch_size=2, seq_len=10, state=state)


def test_time_first_layout_and_loss_mask():
    ds = neurobench.Dataset(
        "DelayMatchSample", batch_size=3, seq_len=40, seed=0, batch_first=False, fixation_weight=0.1
    )
    reference = neurobench.Dataset("DelayMatchSample", batch_size=3, seq_len=40, seed=0)
    inputs, targets, mask = ds.draw()
    ref_inputs, ref_targets = reference.draw()
    assert inputs.shape == (40, 3, 3)
    np.testing.assert_array_equal(inputs, ref_inputs.swapaxes(0, 1))
    np.testing.assert_array_equal(targets, ref_targets.T)
    np.testing.assert_array_equal(mask, np.where(targets == 0, np.float32(0.1), np.float32(1.0)))


def test_memory_stays_bounded_however_many_batches():
    ds = neurobench.Dataset("PerceptualDecisionMaking", batch_size=16, seq_len=100, seed=0)
    sizes = []
    for _ in range(3000):
        ds.draw()
        sizes.append(ds._pool.batch.n)
    assert max(sizes) <= 3 * ds.task.chunk_size
    assert int(ds.trial_index.max()) > 10 * max(sizes)  # far more trials went through than are held


def test_torch_tensors_when_asked():
    torch = pytest.importorskip("torch")
    inputs, targets = neurobench.Dataset("PerceptualDecisionMaking", batch_size=2, seq_len=5, seed=0, torch=True).draw()
    assert isinstance(inputs, torch.Tensor)
    assert inputs.dtype == torch.float32
    assert targets.shape == (2, 5)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"batch_size": 0, "seq_len": 5}, InvalidParameterError, "batch_size must be an integer >= 1"),
        ({"batch_size": 2, "seq_len": 0}, InvalidParameterError, "seq_len must be an integer >= 1"),
        ({"batch_size": 2, "seq_len": 5, "fixation_weight": -1}, InvalidParameterError, "fixation_weight"),
        ({"batch_size": 2, "seq_len": 5, "seed": -3}, InvalidParameterError, "seed must be a non-negative"),
        ({"batch_size": 2, "seq_len": 5, "sigm": 1}, UnknownNameError, "Did you mean 'sigma'"),
        ({"batch_size": 2, "seq_len": 5, "shard": (2, 2)}, InvalidParameterError, "worker k of W"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        neurobench.Dataset("PerceptualDecisionMaking", **kwargs)


def test_closed_loop_tasks_have_no_dataset():
    with pytest.raises(InvalidParameterError, match="no supervised targets"):
        neurobench.Dataset("MatchingPennies", batch_size=2, seq_len=5)


@pytest.mark.parametrize("name", ["DelayMatchSample", "DualDelayMatchSample", "GoNogo", "ReadySetGo", "DawTwoStep"])
def test_end_at_answer_shows_trials_as_the_env_plays_them_for_the_oracle(name):
    task = neurobench.make_task(name)
    ds = neurobench.Dataset(task, batch_size=1, seq_len=50, seed=4, end_at_answer=True)
    inputs = np.concatenate([ds.draw()[0][0] for _ in range(20)])
    env = neurobench.make(task, trials_per_episode=None)
    obs, info = env.reset(seed=4)
    played = [obs]
    for _ in range(len(inputs) - 1):
        obs, _, _, _, info = env.step(int(info["target"]))
        played.append(obs)
    np.testing.assert_array_equal(np.array(played), inputs)
