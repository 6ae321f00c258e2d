"""Runs and results that cannot lie or lose work, under hostile input and faults.

Fuzzes suite definitions, overrides and result files (hypothesis); kills runs mid-way and
resumes them, locally and on Ray, and kills a Ray worker inside a job. The findings of the
adversarial pass each have their own test in test_harness.py and test_games.py; this file
keeps the properties that must hold for every input.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurobench
from neurobench.core.errors import NeuroBenchError
from neurobench.scoring.results import SubmissionError, submit, validate
from neurobench.suites import Suite, load_suite
from tests.test_harness import config

ROOT = Path(__file__).resolve().parent.parent
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- suites -------------------------------------------------------------------------------
@FUZZ
@given(field=st.sampled_from(["name", "tasks", "seeds", "eval_seed_offset", "eval_trials", "budget", "num_envs"]),
       value=JSON)  # fmt: skip
def test_a_fuzzed_suite_definition_is_accepted_or_refused_clearly(field, value):
    definition = load_suite("quick").definition()
    definition[field] = value
    try:
        suite = Suite.from_mapping(definition)
    except NeuroBenchError as error:  # refused with a message (never a TypeError or KeyError from inside)
        message = str(error)
        assert message
    else:
        assert suite.hash == Suite.from_mapping(suite.definition()).hash


@FUZZ
@given(task=JSON)
def test_a_fuzzed_task_node_is_built_or_refused_clearly(task):
    try:
        neurobench.make_task(task)
    except NeuroBenchError as error:
        assert str(error)


@FUZZ
@given(
    key=st.sampled_from(["suite.eval_trials", "suite.seeds", "suite.budget", "overwrite", "progress", "debug",
                         "launcher", "ray.num_cpus_per_job", "agent.name", "suite.num_envs"]),
    value=st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(["no", "off", "'false'", "[]", "[0,-1]",
                    "null", "many", "1e400", "[1, 'a']", "{}", "True", "yes"])),
)  # fmt: skip
def test_a_fuzzed_override_runs_or_fails_before_anything_runs(tmp_path, key, value):
    """Every override is parsed strictly: either it is valid (the run could start) or the
    harness refuses it with a clear error, and nothing is written."""
    from neurobench.run import check_config

    run_dir = tmp_path / "run"
    try:
        cfg = config("suite=quick", "agent=random", f"{key}={value}", run_dir=run_dir)
        check_config(cfg)
    except NeuroBenchError as error:
        assert str(error)
        assert not run_dir.exists()
    except Exception as error:  # Hydra's own grammar errors for unparsable override text
        assert type(error).__module__.startswith(("hydra", "omegaconf")), repr(error)
        assert not run_dir.exists()


# -- result files -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def valid_result(tmp_path_factory):
    from neurobench import run as harness

    run_dir = tmp_path_factory.mktemp("valid")
    harness.run(config("suite=quick", "agent=guess", run_dir=run_dir))
    return json.loads((run_dir / "result.json").read_text())


def _mutate(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:3]):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


@FUZZ
@given(choice=st.integers(0, 10**6), value=JSON)
def test_a_fuzzed_result_is_refused_with_a_message_or_still_valid(valid_result, choice, value):
    data = json.loads(json.dumps(valid_result))
    paths = list(_paths(data))
    path = paths[choice % len(paths)]
    _mutate(data, path, value)
    try:
        validate(data)
    except SubmissionError as error:
        assert str(error)
    else:  # harmless: a descriptive field, an equal value, or a definition equivalent to the hashed one
        equivalent = path[:2] == ("suite", "definition")  # its hash still matched: the same suite (None = default)
        assert FREE.intersection(path) or equivalent or value == _get(valid_result, path), path


FREE = {"wall_time_s", "fit_time_s", "eval_time_s", "machine", "method", "neurobench_version"}


def _get(data, path):
    for key in path:
        data = data[key]
    return data


@FUZZ
@given(content=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_a_refused_submission_leaves_results_byte_identical(valid_result, tmp_path, content):
    here = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example
    results = here / "results"
    submit_path = here / "mine.json"
    (here / "good.json").write_text(json.dumps(valid_result))
    submit(here / "good.json", results)
    before = {p: p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()}
    submit_path.write_bytes(content)
    with pytest.raises(SubmissionError):
        submit(submit_path, results)
    assert {p: p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()} == before


# -- interruptions and faults ------------------------------------------------------------
TIMING = ("wall_time_s", "fit_time_s", "eval_time_s")


def _without_timing(value):
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def _run(run_dir: Path, *extra: str, wait: bool = True) -> subprocess.Popen:
    command = [sys.executable, "-m", "neurobench", "suite=perceptual", "suite.version=2", "agent=ideal",
               "suite.eval_trials=300", "progress=false", f"run_dir={run_dir}", *extra]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    if wait:
        assert process.wait(timeout=900) == 0, process.stderr.read()[-2000:] if process.stderr else ""
    return process


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """The run both launchers' interrupted runs are compared with: run once, locally, since
    the launchers give the same results (test_harness checks it)."""
    straight = tmp_path_factory.mktemp("straight")
    _run(straight)
    return json.loads((straight / "result.json").read_text())


@pytest.mark.parametrize("launcher", ["local", "ray"])
def test_a_killed_and_resumed_run_is_identical_to_an_uninterrupted_one(tmp_path, launcher, uninterrupted):
    if launcher == "ray":
        pytest.importorskip("ray")
    extra = ("launcher=ray",) if launcher == "ray" else ()
    interrupted = tmp_path / "interrupted"
    process = _run(interrupted, *extra, wait=False)
    deadline = time.monotonic() + 600
    while not list((interrupted / "jobs").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the run and, on Ray, its local cluster: the whole session
    process.wait()
    finished_before = len(list((interrupted / "jobs").glob("*.json")))
    assert 1 <= finished_before < 9, "the run was killed between its first and its last job"
    assert not (interrupted / "result.json").exists()
    _run(interrupted, *extra)
    resumed = json.loads((interrupted / "result.json").read_text())
    assert _without_timing(resumed) == _without_timing(uninterrupted)


def test_a_ray_worker_killed_inside_a_job_is_retried_and_changes_nothing(tmp_path):
    pytest.importorskip("ray")
    marker = tmp_path / "attempts"
    marker.mkdir()
    script = textwrap.dedent(
        f"""
        from omegaconf import OmegaConf
        from neurobench import run as harness
        from tests.test_harness import config
        cfg = config("suite=quick", "agent=oracle", "launcher=ray", "suite.eval_trials=100",
                     run_dir={str(tmp_path / "run")!r})
        OmegaConf.set_struct(cfg, False)
        cfg.agent = {{"_target_": "tests.reliability_agents.DiesOnce", "name": "dies_once", "marker": {str(marker)!r}}}
        harness.run(cfg)
        """
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(marker.iterdir())) == 2  # each job's worker died once
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert [run["metrics"]["success"] for run in result["runs"]] == [1.0, 1.0]  # the oracle's, once retried


def test_stepping_an_ended_episode_is_a_clear_error_not_a_silent_new_episode():
    env = neurobench.make("PerceptualDecisionMaking", trials_per_episode=1)
    env.reset(seed=0)
    truncated = terminated = False
    while not (truncated or terminated):
        _, _, terminated, truncated, _ = env.step(0)
    with pytest.raises(neurobench.InvalidActionError, match="reset"):
        env.step(0)
    obs, _ = env.reset()
    assert np.all(np.isfinite(obs))
