"""The main job end to end: suites, the harness, resume, results, submit, leaderboard."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_module

from neurobench import run as harness
from neurobench.core.errors import NeuroBenchError, UnknownNameError
from neurobench.scoring import leaderboard
from neurobench.scoring.compare import compare
from neurobench.scoring.results import SubmissionError, read_result, submit
from neurobench.suites import Suite, known_suites, load_suite, suite_names


def config(*overrides: str, run_dir: Path):
    with initialize_config_module(config_module="neurobench.conf", version_base=None):
        return compose(config_name="config", overrides=[*overrides, f"run_dir={run_dir}", "progress=false"])


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """The quick suite run once per reference agent."""
    out = {}
    for agent in ("random", "oracle", "guess"):
        run_dir = tmp_path_factory.mktemp(agent)
        harness.run(config("suite=quick", f"agent={agent}", run_dir=run_dir))
        out[agent] = run_dir / "result.json"
    return out


def test_every_shipped_suite_loads_and_has_distinct_hashes():
    suites = [load_suite(name) for name in suite_names()]
    assert {s.name for s in suites} >= {"quick", "perceptual", "working_memory", "all"}
    assert len({s.hash for s in suites}) == len(suites)


def test_committed_results_are_valid_submissions_of_the_shipped_suites():
    """A suite whose hash drifts (a task's default changed, say) orphans every result
    submitted for it: this catches the change before it lands."""
    files = sorted((Path(__file__).resolve().parent.parent / "results").glob("*/*.json"))
    assert len(files) >= 20
    hashes = set(known_suites())
    for path in files:
        result = read_result(path)
        assert result["suite"]["hash"] in hashes, path


def test_suite_hash_covers_what_decides_the_trials():
    base = load_suite("quick")
    data = {**_definition(base), "eval_trials": 201}
    assert Suite.from_mapping(data).hash != base.hash
    changed = _definition(base)
    changed["tasks"][0]["params"]["timing"]["stimulus"] = 1000
    assert Suite.from_mapping(changed).hash != base.hash
    same = _definition(base)
    same["tasks"][0]["params"]["dt"] = 100.0  # 100 and 100.0 are the same trials
    assert Suite.from_mapping(same).hash == base.hash


def _definition(suite):
    return {
        "name": suite.name,
        "version": suite.version,
        "description": suite.description,
        "tasks": [{"name": t.name, "params": json.loads(json.dumps(t.params))} for t in suite.tasks],
        "seeds": list(suite.seeds),
        "eval_seed_offset": suite.eval_seed_offset,
        "eval_trials": suite.eval_trials,
        "budget": suite.budget,
        "num_envs": suite.num_envs,
    }


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"seeds": [0, 0]}, "seeds must be distinct"),
        ({"seeds": []}, "seeds must list at least one seed"),
        ({"seeds": [0, 5], "eval_seed_offset": 5}, "overlap the training seeds"),
        ({"tasks": []}, "has no tasks"),
        ({"tasks": [{"name": "Nope"}]}, "Unknown task 'Nope'"),
        ({"tasks": [{"name": "DelayMatchSample", "params": {"sigm": 1}}]}, "Did you mean 'sigma'"),
        ({"budget": -1}, "budget must be integers >= 0"),
        ({"colour": "blue"}, "Unknown field of suite"),
    ],
)
def test_bad_suites_are_rejected_clearly(change, fragment):
    with pytest.raises(NeuroBenchError, match=fragment):
        Suite.from_mapping({**_definition(load_suite("quick")), **change})


def test_quick_suite_end_to_end(quick_results):
    result = json.loads(quick_results["oracle"].read_text())
    assert result["suite"]["name"] == "quick"
    assert result["suite"]["hash"] == load_suite("quick").hash
    assert result["agent"] == {
        "name": "oracle",
        "config": {"_target_": "neurobench.agents.OracleAgent", "name": "oracle"},
    }
    assert {r["task"] for r in result["runs"]} == {"PerceptualDecisionMaking", "DelayMatchSample"}
    for run in result["runs"]:
        assert run["metrics"]["success"] == 1.0
        assert run["metrics"]["n_trials"] == 200
    records = quick_results["oracle"].parent / "records" / "00-PerceptualDecisionMaking-seed0.csv"
    lines = records.read_text().splitlines()
    assert lines[0].startswith("trial,outcome,reward,response")
    assert len(lines) == 201
    assert set(result["aggregates"]) == {"overall", "perceptual", "working_memory"}
    read_result(quick_results["oracle"])  # a run's result file is a valid submission


def test_normalized_score_is_zero_for_a_guesser_and_one_at_the_ceiling(tmp_path):
    guess = harness.run(
        config("suite=perceptual", "agent=guess", "suite.eval_trials=2000", "suite.seeds=[0]", run_dir=tmp_path / "g")
    )
    for run in guess["runs"]:
        assert abs(run["metrics"]["normalized"]) < 0.12, run
    ideal = harness.run(
        config("suite=perceptual", "agent=ideal", "suite.eval_trials=2000", "suite.seeds=[0]", run_dir=tmp_path / "i")
    )
    for run in ideal["runs"]:
        assert abs(run["metrics"]["normalized"] - 1) < 0.12, run
    oracle = harness.run(
        config(
            "suite=working_memory", "agent=oracle", "suite.seeds=[0]", "suite.eval_trials=300", run_dir=tmp_path / "o"
        )
    )
    for run in oracle["runs"]:
        if run["ceiling"] == 1.0:  # noise-free: the oracle is the ceiling
            assert run["metrics"]["normalized"] == pytest.approx(1.0)
        else:  # knowing the answer beats the best use of noisy observations
            assert run["metrics"]["normalized"] > 1.0


def test_an_interrupted_run_resumes_without_redoing_finished_jobs(tmp_path, monkeypatch):
    complete = harness.run(config("suite=quick", "agent=random", run_dir=tmp_path / "full"))
    calls = []
    original = harness.run_job

    def interrupted(agent_config, job, suite, progress=None, workdir=None):
        calls.append(job.key)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the second job is cut off
        return original(agent_config, job, suite, progress, workdir)

    monkeypatch.setattr(harness, "run_job", interrupted)
    with pytest.raises(KeyboardInterrupt):
        harness.run(config("suite=quick", "agent=random", run_dir=tmp_path / "cut"))
    assert len(list((tmp_path / "cut" / "jobs").glob("*.json"))) == 1
    assert not (tmp_path / "cut" / "result.json").exists()
    calls.clear()
    resumed = harness.run(config("suite=quick", "agent=random", run_dir=tmp_path / "cut"))
    assert calls == ["01-DelayMatchSample-seed0"]  # only the unfinished job ran
    assert [r["metrics"] for r in resumed["runs"]] == [r["metrics"] for r in complete["runs"]]


def test_a_resumed_run_rescores_finished_jobs_from_their_records(tmp_path, monkeypatch):
    """A corrected ceiling reaches a finished run without redoing its jobs."""
    first = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    job_file = next((tmp_path / "jobs").glob("*PerceptualDecisionMaking*.json"))
    stale = json.loads(job_file.read_text())
    stale.update(ceiling=0.5, metrics={**stale["metrics"], "normalized": 123.0})
    job_file.write_text(json.dumps(stale))
    monkeypatch.setattr(harness, "run_job", lambda *args, **kwargs: pytest.fail("a finished job ran again"))
    again = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    assert again["runs"] == first["runs"]


def test_a_finished_job_with_unreadable_records_runs_again(tmp_path, monkeypatch):
    first = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    records = sorted((tmp_path / "records").glob("*.csv"))
    records[0].write_text("")  # truncated by a crash
    records[1].unlink()
    calls = []
    original = harness.run_job

    def counted(agent_config, job, suite, progress=None, workdir=None):
        calls.append(job.key)
        return original(agent_config, job, suite, progress, workdir)

    monkeypatch.setattr(harness, "run_job", counted)
    again = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    assert sorted(calls) == sorted(path.stem for path in records[:2])
    assert [r["metrics"] for r in again["runs"]] == [r["metrics"] for r in first["runs"]]


def test_a_run_dir_of_another_configuration_is_not_mixed(tmp_path):
    harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    with pytest.raises(harness.RunDirConflict, match="another configuration"):
        harness.run(config("suite=quick", "agent=oracle", run_dir=tmp_path))
    result = harness.run(config("suite=quick", "agent=oracle", "overwrite=true", run_dir=tmp_path))
    assert result["agent"]["name"] == "oracle"


def test_bad_agent_parameters_fail_before_anything_runs(tmp_path):
    with pytest.raises(UnknownNameError, match="parameter of agent 'random'"):
        harness.run(config("suite=quick", "agent=random", "+agent.hidden_size=3", run_dir=tmp_path))
    assert not (tmp_path / "jobs").exists()


def test_command_line_runs_the_main_job_and_rejects_unknown_names(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "neurobench", "suite=quick", "agent=oracle", "progress=false"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs" / "quick" / "oracle" / "result.json").exists()
    assert "IQM overall" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "neurobench", "suite=quik"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode != 0
    assert "quick" in bad.stderr  # Hydra lists the available suites


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_submit_accepts_a_valid_result_and_refuses_a_duplicate(quick_results, tmp_path):
    target = submit(quick_results["oracle"], tmp_path)
    assert target.parent == tmp_path / "quick"
    assert target.name.startswith("oracle-")
    before = _snapshot(tmp_path)
    with pytest.raises(SubmissionError, match="duplicate"):
        submit(quick_results["oracle"], tmp_path)
    assert _snapshot(tmp_path) == before


def _mutated(source: Path, tmp_path: Path, edit) -> Path:
    data = json.loads(source.read_text())
    text = edit(data)
    path = tmp_path / "bad.json"
    path.write_text(text if isinstance(text, str) else json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: "{not json", "not valid JSON"),
        (lambda d: json.dumps(d).replace('"success": 1.0', '"success": NaN', 1), "NaN is not allowed"),
        (lambda d: d["suite"].update(hash="0123456789abcdef"), "is not one of this NeuroBench version's suites"),
        (lambda d: d["runs"].pop(), "missing runs"),
        (lambda d: d["agent"].update(name="../../escape"), "agent name"),
        (lambda d: d["runs"][0]["metrics"].update(success="high"), "must be a number"),
        (lambda d: d.update(schema="other/9"), "schema must be"),
        (lambda d: "[" * 100000 + "]" * 100000, "not valid JSON"),
        (lambda d: d["runs"].append(dict(d["runs"][0])), "appears twice"),
        (lambda d: d["runs"][0].update(task=["PerceptualDecisionMaking"]), "task must be a task name"),
        (lambda d: d["runs"][0].update(seed=99), "its runs are [('DelayMatchSample', 0)"),
        (lambda d: d["runs"][0]["metrics"].update(normalized=2.0), "does not follow from success"),
        (lambda d: d["runs"][0].update(ceiling=0.7), "is not this NeuroBench's"),
        (lambda d: d["runs"][0].update(chance=0.1), "is not this NeuroBench's 0.5 for"),
    ],
)
def test_bad_submissions_are_rejected_and_results_are_unchanged(quick_results, tmp_path, edit, fragment):
    results = tmp_path / "results"
    submit(quick_results["random"], results)
    before = _snapshot(results)
    bad = _mutated(quick_results["oracle"], tmp_path, edit)
    with pytest.raises(SubmissionError, match=re.escape(fragment)):
        submit(bad, results)
    assert _snapshot(results) == before


def test_leaderboard_is_regenerated_byte_identically(quick_results, tmp_path):
    for agent in ("random", "oracle", "guess"):
        submit(quick_results[agent], tmp_path)
    first = {p.name: p.read_bytes() for p in leaderboard.write(tmp_path)}
    second = {p.name: p.read_bytes() for p in leaderboard.write(tmp_path)}
    assert first == second
    assert set(first) == set(leaderboard.OUTPUTS)
    markdown = first["LEADERBOARD.md"].decode()
    assert markdown.index("| oracle") < markdown.index("| guess")  # sorted by overall IQM
    assert "### quick / working_memory" in markdown
    assert "<table" in first["leaderboard.html"].decode()
    assert first["leaderboard.csv"].decode().count("\n") == 1 + 3 * 3 * 4


def test_compare_reports_differences_and_writes_plots(quick_results, tmp_path):
    report, plots = compare(quick_results["oracle"], quick_results["random"], tmp_path)
    assert "oracle (A) vs random (B)" in report
    assert "overall" in report
    assert [p.name for p in plots] == ["scores.png", "profiles.png"]
    assert all(p.stat().st_size > 1000 for p in plots)


def test_ray_launcher_gives_the_same_results(quick_results, tmp_path):
    pytest.importorskip("ray")
    result = harness.run(config("suite=quick", "agent=oracle", "launcher=ray", run_dir=tmp_path))
    local = json.loads(quick_results["oracle"].read_text())
    assert [r["metrics"] for r in result["runs"]] == [r["metrics"] for r in local["runs"]]
    np.testing.assert_equal(result["aggregates"], local["aggregates"])
