import numpy as np
import pytest

import neurobench
from neurobench import InvalidParameterError, UnknownNameError
from neurobench.core.stream import TrialStream


def _concatenated(task, seed, n_steps):
    stream = TrialStream.seeded(task, seed)
    obs, target = [], []
    while sum(len(o) for o in obs) < n_steps:
        chunk = stream.next_chunk()
        for i in range(chunk.n):
            obs.append(chunk.obs[i, : chunk.length[i]])
            target.append(chunk.target[i, : chunk.length[i]])
    return np.concatenate(obs)[:n_steps], np.concatenate(target)[:n_steps]


def test_batch_shapes_and_dtypes(task_name):
    ds = neurobench.Dataset(task_name, batch_size=8, seq_len=50, seed=0)
    inputs, targets = ds.draw()
    assert inputs.shape == (8, 50, ds.task.obs_channels.size)
    assert inputs.dtype == np.float32
    assert targets.shape == (8, 50)
    assert np.issubdtype(targets.dtype, np.integer)
    assert targets.max() < ds.task.action_space.n


def test_one_row_is_the_single_env_trial_sequence():
    task = neurobench.make_task("DelayComparison")
    ds = neurobench.Dataset(task, batch_size=1, seq_len=70, seed=9)
    inputs = np.concatenate([ds.draw()[0][0] for _ in range(30)])
    expected, _ = _concatenated(task, 9, len(inputs))
    np.testing.assert_array_equal(inputs, expected)
    env = neurobench.make(task, trials_per_episode=None)
    obs, _ = env.reset(seed=9)
    stepped = [obs]
    for _ in range(len(inputs) - 1):
        stepped.append(env.step(0)[0])  # fixating: every step of every trial is seen
    np.testing.assert_array_equal(np.array(stepped), inputs)


def test_rows_hold_the_stream_trials_dealt_in_rounds():
    task = neurobench.make_task("IntervalDiscrimination")  # trials of varying length
    ds = neurobench.Dataset(task, batch_size=5, seq_len=23, seed=2)
    stream = TrialStream.seeded(task, 2).take(400)
    position = {}
    all_indices = []
    for _ in range(12):
        inputs, targets = ds.draw()
        for row in range(5):
            for s in range(23):
                index = int(ds.trial_index[row, s])
                step = position.get((row, index), 0)
                np.testing.assert_array_equal(inputs[row, s], stream.obs[index, step])
                assert targets[row, s] == stream.target[index, step]
                position[(row, index)] = step + 1
            all_indices += list(dict.fromkeys(ds.trial_index[row].tolist()))
    rows_of = {}
    for row, index in position:
        rows_of.setdefault(index, set()).add(row)
    assert all(len(rows) == 1 for rows in rows_of.values())  # a trial belongs to one row
    assert sorted(rows_of) == list(range(len(rows_of)))  # dealt in order, none skipped
    assert ds.trial_index[:, 0].min() >= 0


def test_same_seed_same_batches_different_seed_different():
    a = neurobench.Dataset("PerceptualDecisionMaking", batch_size=4, seq_len=30, seed=1)
    b = neurobench.Dataset("PerceptualDecisionMaking", batch_size=4, seq_len=30, seed=1)
    c = neurobench.Dataset("PerceptualDecisionMaking", batch_size=4, seq_len=30, seed=2)
    for _ in range(20):
        (xa, ya), (xb, yb), (xc, _) = a.draw(), b.draw(), c.draw()
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(xa, xc)


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
    assert mask.dtype == np.float32


def test_iteration_and_call_draw_batches():
    ds = neurobench.Dataset("PerceptualDecisionMaking", batch_size=2, seq_len=5, seed=0)
    first = next(iter(ds))
    second = ds()
    assert first[0].shape == second[0].shape == (2, 5, 3)


def test_memory_stays_bounded_however_many_batches():
    ds = neurobench.Dataset("PerceptualDecisionMaking", batch_size=16, seq_len=100, seed=0)
    sizes = []
    for _ in range(3000):
        ds.draw()
        sizes.append(ds._pool.n)
    assert max(sizes) <= 2 * ds.task.chunk_size + 16
    assert ds._stream.drawn > 10 * max(sizes)  # far more trials went through than are held


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
        ({"batch_size": 2, "seq_len": 5, "fixation_weight": "a"}, InvalidParameterError, "fixation_weight must be"),
        ({"batch_size": 2, "seq_len": 5, "seed": -3}, InvalidParameterError, "seed must be a non-negative"),
        ({"batch_size": 2, "seq_len": 5, "sigm": 1}, UnknownNameError, "Did you mean 'sigma'"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        neurobench.Dataset("PerceptualDecisionMaking", **kwargs)


def test_unknown_task_is_rejected():
    with pytest.raises(UnknownNameError, match="DelayMatchSample"):
        neurobench.Dataset("DelayMatchSampl", batch_size=2, seq_len=5)


@pytest.mark.parametrize(
    "name", ["DelayMatchSample", "DualDelayMatchSample", "DelayPairedAssociation", "PerceptualDecisionMaking"]
)
def test_end_at_answer_shows_trials_as_the_env_plays_them_for_the_oracle(name):
    task = neurobench.make_task(name)
    ds = neurobench.Dataset(task, batch_size=1, seq_len=50, seed=4, end_at_answer=True)
    inputs = np.concatenate([ds.draw()[0][0] for _ in range(20)])
    env = neurobench.make(task, trials_per_episode=None)
    obs, info = env.reset(seed=4)
    played = [obs]
    for _ in range(len(inputs) - 1):
        obs, _, _, _, info = env.step(info["target"])
        played.append(obs)
    np.testing.assert_array_equal(np.array(played), inputs)
