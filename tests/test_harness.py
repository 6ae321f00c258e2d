"""The main job end to end: versioned suites, the harness, resume, results, submit, leaderboard."""

import json
import os
import re
import shutil
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
from neurobench.scoring.results import SubmissionError, read_result, submit, validate
from neurobench.suites import Suite, known_suites, load_suite, resolve_suite, suite_names, suite_versions

ROOT = Path(__file__).resolve().parent.parent


def config(*overrides: str, run_dir: Path):
    with initialize_config_module(config_module="neurobench.conf", version_base=None):
        return compose(config_name="config", overrides=[f"run_dir={run_dir}", "progress=false", *overrides])


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """The quick suite run once per reference agent."""
    out = {}
    for agent in ("random", "oracle", "guess"):
        run_dir = tmp_path_factory.mktemp(agent)
        harness.run(config("suite=quick", f"agent={agent}", run_dir=run_dir))
        out[agent] = run_dir / "result.json"
    return out


def test_every_released_suite_version_loads_with_its_own_hash():
    suites = [load_suite(name, v) for name in suite_names() for v in suite_versions(name)]
    assert {s.name for s in suites} >= {"quick", "perceptual", "working_memory", "multitask", "multiagent", "all"}
    assert len({s.hash for s in suites}) == len(suites)
    assert all(s.frozen for s in suites)


def test_committed_results_are_valid_submissions_of_released_suites():
    """A suite whose hash drifts orphans every result submitted for it: caught here."""
    files = sorted((ROOT / "results").glob("*/*.json"))
    assert files
    for path in files:
        assert read_result(path)["suite"]["hash"] in known_suites(), path


def test_the_hash_covers_every_nested_parameter():
    base = load_suite("quick")
    assert resolve_suite({"name": "quick", "eval_trials": 201}).hash != base.hash
    definition = json.loads(json.dumps(base.definition()))
    definition["tasks"][0]["task"]["params"]["timing"]["stimulus"] = ["constant", 1000.0]
    assert Suite.from_definition(definition).hash != base.hash
    same = json.loads(json.dumps(base.definition()))
    same["tasks"][0]["task"]["params"]["dt"] = 100  # 100 and 100.0 are the same trials
    assert Suite.from_definition(same).hash == base.hash
    nested = Suite.from_mapping(
        {
            "name": "nested",
            "version": 1,
            "seeds": [0],
            "eval_seed_offset": 10,
            "eval_trials": 5,
            "budget": 0,
            "num_envs": 2,
            "tasks": [
                {
                    "id": "Noise",
                    "params": {"std": 0.1},
                    "task": {"id": "ReactionTime", "task": "PerceptualDecisionMaking"},
                }
            ],
        }
    )
    deeper = json.loads(json.dumps(nested.definition()))
    deeper["tasks"][0]["task"]["task"]["task"]["params"]["sigma"] = 0.5
    assert Suite.from_definition(deeper).hash != nested.hash  # a parameter three levels down


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"seeds": [0, 0]}, "seeds must be distinct"),
        ({"seeds": []}, "seeds must list at least one seed"),
        ({"seeds": 5}, "seeds must be a list of integers"),
        ({"seeds": [0, 5], "eval_seed_offset": 5}, "overlap the training seeds"),
        ({"tasks": []}, "has no tasks"),
        ({"tasks": "PerceptualDecisionMaking"}, "tasks must be a list of tasks"),
        ({"tasks": [{"id": "Nope"}]}, "Unknown task 'Nope'"),
        ({"tasks": [{"id": "DelayMatchSample", "params": {"sigm": 1}}]}, "Did you mean 'sigma'"),
        ({"tasks": ["GoNogo", "GoNogo"]}, "more than once"),
        ({"budget": -1}, "budget must be integers >= 0"),
        ({"colour": "blue"}, "Unknown field of suite"),
        ({"tasks": [{"id": "GoNogo", "params": {"timing": {"stimulus": 1e12}}}]}, "more than the 1,000,000 allowed"),
    ],
)
def test_bad_suites_are_rejected_clearly(change, fragment):
    base = {k: v for k, v in resolve_suite({"name": "quick"}).__dict__.items() if k != "tasks"}
    data = {**base, "tasks": ["GoNogo"], "seeds": [0], **change}
    with pytest.raises(NeuroBenchError, match=re.escape(fragment)):
        Suite.from_mapping(data)


def test_a_suite_of_modified_and_composed_tasks_runs_end_to_end_and_rebuilds_from_its_result(tmp_path):
    folder = tmp_path / "conf" / "suite"
    folder.mkdir(parents=True)
    result = harness.run(
        config(
            "suite=quick",
            "agent=guess",
            "suite.eval_trials=60",
            "suite.tasks=[{id: Noise, params: {std: 0.1}, task: {id: ReactionTime, task: PerceptualDecisionMaking}},"
            " {id: MultiTask, tasks: [GoNogo, DelayMatchSample]}]",
            run_dir=tmp_path / "run",
        )
    )
    assert [r["task"] for r in result["runs"]] == [
        "Noise(ReactionTime(PerceptualDecisionMaking))",
        "MultiTask(GoNogo, DelayMatchSample)",
    ]
    suite = Suite.from_definition(json.loads(json.dumps(result["suite"]["definition"])))
    assert suite.hash == result["suite"]["hash"]
    assert suite.tasks[0].build().node() == json.loads(json.dumps(result["suite"]["definition"]["tasks"][0]["task"]))
    validate(result, released=False)


def test_adding_a_task_makes_a_new_suite_version_and_old_results_stay_valid(tmp_path, monkeypatch, quick_results):
    import neurobench.suites as suites_module

    conf = tmp_path / "suites"
    shutil.copytree(ROOT / "conf" / "suites", conf)
    latest = suite_versions("quick")[-1]
    text = (conf / "quick" / f"v{latest}.yaml").read_text()
    text = text.replace(f"version: {latest}", f"version: {latest + 1}").replace(
        "tasks:\n", "tasks:\n- id: GoNogo-v0\n", 1
    )
    (conf / "quick" / f"v{latest + 1}.yaml").write_text(text)
    monkeypatch.setattr(suites_module, "_frozen_root", lambda: conf)
    suites_module.known_suites.cache_clear()
    try:
        assert load_suite("quick").version == latest + 1
        old = read_result(quick_results["oracle"])  # the old version's results remain valid
        assert old["suite"]["version"] == latest
        with_new = {s.version for s in known_suites().values() if s.name == "quick"}
        assert {latest, latest + 1} <= with_new
    finally:
        suites_module.known_suites.cache_clear()


def test_a_new_suite_version_adopts_the_unchanged_jobs_of_the_previous_ones_run(tmp_path, monkeypatch):
    import neurobench.suites as suites_module

    conf = tmp_path / "suites"
    shutil.copytree(ROOT / "conf" / "suites", conf)
    latest = suite_versions("quick")[-1]
    text = (conf / "quick" / f"v{latest}.yaml").read_text()
    assert "delay: 1000" in text
    changed = text.replace(f"version: {latest}", f"version: {latest + 1}").replace("delay: 1000", "delay: 800")
    (conf / "quick" / f"v{latest + 1}.yaml").write_text(changed)
    monkeypatch.setattr(suites_module, "_frozen_root", lambda: conf)
    suites_module.known_suites.cache_clear()
    try:
        old = harness.run(config("suite=quick", f"suite.version={latest}", "agent=guess", run_dir=tmp_path / "old"))
        calls = []
        original = harness.run_job
        monkeypatch.setattr(harness, "run_job", lambda *a, **k: calls.append(a[1].key) or original(*a, **k))
        reuse = f"reuse=[{tmp_path / 'old'}]"
        newer = f"suite.version={latest + 1}"
        new = harness.run(config("suite=quick", newer, "agent=guess", reuse, run_dir=tmp_path / "new"))
        assert calls == ["01-DelayMatchSample-seed0"]  # only the changed task ran
        adopted = new["runs"][0]
        assert (
            adopted["adopted_from"] == f"quick v{latest} ({old['suite']['hash']}) job 00-PerceptualDecisionMaking-seed0"
        )
        assert adopted["trials"] == old["runs"][0]["trials"]
        assert adopted["metrics"] == old["runs"][0]["metrics"]
        validate(new)
        calls.clear()  # another agent's jobs are other jobs: nothing is adopted
        harness.run(config("suite=quick", newer, "agent=random", reuse, run_dir=tmp_path / "other"))
        assert calls == ["00-PerceptualDecisionMaking-seed0", "01-DelayMatchSample-seed0"]
        with pytest.raises(NeuroBenchError, match=r"reuse=.*nowhere: not a readable run directory"):
            harness.run(
                config("suite=quick", "agent=oracle", f"reuse=[{tmp_path / 'nowhere'}]", run_dir=tmp_path / "x")
            )
    finally:
        suites_module.known_suites.cache_clear()


def test_quick_suite_end_to_end(quick_results):
    result = json.loads(quick_results["oracle"].read_text())
    assert result["suite"]["name"] == "quick"
    assert result["suite"]["hash"] == load_suite("quick").hash
    assert result["agent"]["config"] == {"_target_": "neurobench.agents.OracleAgent", "name": "oracle"}
    assert {r["task"] for r in result["runs"]} == {"PerceptualDecisionMaking", "DelayMatchSample"}
    for run in result["runs"]:
        assert run["metrics"]["success"] == 1.0
        assert run["trials"]["outcome"] == "c" * 200
    records = quick_results["oracle"].parent / "records" / "00-PerceptualDecisionMaking-seed0.csv"
    lines = records.read_text().splitlines()
    assert lines[0].startswith("trial,outcome,reward,score,response,rt")
    assert len(lines) == 201
    read_result(quick_results["oracle"])  # a run's result file is a valid submission


def test_the_guess_agent_scores_zero_and_the_ideal_observer_one(tmp_path):
    guess = harness.run(
        config("suite=perceptual", "agent=guess", "suite.eval_trials=2000", "suite.seeds=[0]", run_dir=tmp_path / "g")
    )
    for run in guess["runs"]:  # within sampling error (large where chance and ceiling are close)
        assert abs(run["metrics"]["normalized"]) < 0.12 + _sampling_error(run), run["task"]
    ideal = harness.run(
        config("suite=perceptual", "agent=ideal", "suite.eval_trials=2000", "suite.seeds=[0]", run_dir=tmp_path / "i")
    )
    for run in ideal["runs"]:
        assert abs(run["metrics"]["normalized"] - 1) < 0.12 + _sampling_error(run), run["task"]


def _sampling_error(run: dict) -> float:
    """Four standard errors of a run's normalized score, from its trials' binomial spread."""
    n = run["metrics"]["n_trials"]
    return 4 * np.sqrt(0.25 / n) / (run["ceiling"]["value"] - run["chance"]["value"])


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
    calls.clear()
    resumed = harness.run(config("suite=quick", "agent=random", run_dir=tmp_path / "cut"))
    assert calls == ["01-DelayMatchSample-seed0"]
    assert _without_times(resumed) == _without_times(complete)


def _without_times(result):
    runs = [{k: v for k, v in r.items() if not k.endswith("_time_s")} for r in result["runs"]]
    return {**{k: v for k, v in result.items() if k not in ("wall_time_s", "runs")}, "runs": runs}


def test_a_resumed_run_rescores_finished_jobs_from_their_records(tmp_path, monkeypatch):
    first = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    job_file = next((tmp_path / "jobs").glob("*PerceptualDecisionMaking*.json"))
    stale = json.loads(job_file.read_text())
    stale.update(ceiling={"value": 0.5}, metrics={**stale["metrics"], "normalized": 123.0})
    job_file.write_text(json.dumps(stale))
    monkeypatch.setattr(harness, "run_job", lambda *args, **kwargs: pytest.fail("a finished job ran again"))
    again = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    assert _without_times(again) == _without_times(first)


@pytest.mark.parametrize("damage", ["empty", "short", "missing", "wrong shape", "other run"])
def test_a_finished_job_with_damaged_or_foreign_files_runs_again(tmp_path, monkeypatch, damage):
    first = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    records = tmp_path / "records" / "00-PerceptualDecisionMaking-seed0.csv"
    job = tmp_path / "jobs" / "00-PerceptualDecisionMaking-seed0.json"
    if damage == "empty":
        records.write_text("")
    elif damage == "short":  # cut to 10 rows: re-run, not re-scored on 10 trials
        records.write_text("\n".join(records.read_text().splitlines()[:11]) + "\n")
    elif damage == "missing":
        records.unlink()
    elif damage == "wrong shape":
        job.write_text("[]")
    else:
        job.write_text(json.dumps({**json.loads(job.read_text()), "fingerprint": "another"}))
    calls = []
    original = harness.run_job
    monkeypatch.setattr(harness, "run_job", lambda *a, **k: calls.append(a[1].key) or original(*a, **k))
    again = harness.run(config("suite=quick", "agent=guess", run_dir=tmp_path))
    assert calls == ["00-PerceptualDecisionMaking-seed0"]
    assert _without_times(again) == _without_times(first)


def test_a_run_dir_of_another_configuration_is_refused_in_one_line(tmp_path):
    harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    with pytest.raises(
        harness.RunDirConflict, match=r"agent.name: 'random' -> 'oracle'.*run_dir=<new folder> or overwrite=true"
    ):
        harness.run(config("suite=quick", "agent=oracle", run_dir=tmp_path))
    result = harness.run(config("suite=quick", "agent=oracle", "overwrite=true", run_dir=tmp_path))
    assert result["agent"]["name"] == "oracle"


def test_a_deleted_run_json_does_not_let_another_agent_adopt_finished_jobs(tmp_path):
    harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    random_scores = json.loads((tmp_path / "result.json").read_text())["runs"][0]["trials"]
    (tmp_path / "run.json").unlink()
    oracle = harness.run(config("suite=quick", "agent=oracle", run_dir=tmp_path))
    assert oracle["runs"][0]["trials"] != random_scores
    assert oracle["runs"][0]["metrics"]["success"] == 1.0


@pytest.mark.parametrize("content", ["", "{trunc", "[]"])
def test_a_damaged_run_json_is_named_and_overwrite_recovers(tmp_path, content):
    harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    (tmp_path / "run.json").write_text(content)
    with pytest.raises(harness.RunDirConflict, match=re.escape(str(tmp_path / "run.json"))):
        harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    assert harness.run(config("suite=quick", "agent=random", "overwrite=true", run_dir=tmp_path))["runs"]


@pytest.mark.parametrize("value", ["no", "off", "n", "false", "0"])
def test_false_spellings_of_overwrite_keep_finished_jobs(tmp_path, value):
    harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    jobs = sorted(p.name for p in (tmp_path / "jobs").iterdir())
    harness.run(config("suite=quick", "agent=random", f"overwrite={value}", run_dir=tmp_path))
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == jobs


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["overwrite=maybe"], "not a valid bool"),
        (["progress=sometimes"], "progress: 'sometimes' is not one of auto, true, false"),
        (["agent=ppo_lstm", "agent.greedy=perhaps"], "agent.greedy: 'perhaps' is not a boolean"),
        (["agent=ppo_lstm", "agent.hidden_size=big"], "agent.hidden_size: 'big' is not an integer"),
        (["+agent.hidden_size=3"], "Unknown parameter of agent 'random' 'hidden_size'"),
        (["launcher=cloud"], "Invalid value 'cloud'"),
    ],
)
def test_mistyped_options_fail_before_anything_runs_naming_key_and_value(tmp_path, overrides, fragment):
    if "ppo" in " ".join(overrides):
        pytest.importorskip("torch")
    with pytest.raises(Exception) as raised:  # noqa: PT011 (Hydra's errors or ours: the message is checked)
        harness.run(config("suite=quick", *overrides, run_dir=tmp_path))
    chain, error = [], raised.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__
    assert fragment in " | ".join(chain)
    assert not (tmp_path / "jobs").exists()


def test_two_runs_cannot_share_a_run_dir_at_once(tmp_path):
    held = harness.RunDir(tmp_path, {"suite": {}, "agent": {}}, overwrite=False)
    try:
        with pytest.raises(harness.RunDirConflict, match="in use by another run"):
            harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    finally:
        held.release()


def test_files_honour_the_umask_and_stale_temporaries_are_cleaned(tmp_path):
    (tmp_path / "jobs").mkdir()
    stale = tmp_path / "jobs" / ".x.json.abc.tmp"
    stale.write_text("{")
    old = os.umask(0o022)
    try:
        harness.run(config("suite=quick", "agent=random", run_dir=tmp_path))
    finally:
        os.umask(old)
    assert not stale.exists()
    assert (tmp_path / "result.json").stat().st_mode & 0o777 == 0o644


def test_command_line_errors_are_one_line_with_a_hint(tmp_path):
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
    conflict = subprocess.run(
        [sys.executable, "-m", "neurobench", "suite=quick", "agent=random", "run_dir=runs/quick/oracle"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert conflict.returncode == 2
    assert conflict.stderr.startswith("error:")
    assert "Traceback" not in conflict.stderr
    assert "debug=true" in conflict.stderr


def test_a_redirected_run_logs_a_line_per_job_not_progress_bars(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "neurobench", "suite=perceptual", "agent=random"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stderr.encode()) < 20_000
    assert done.stderr.count("[") >= 9  # one line per job
    assert "\r" not in done.stderr


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_submit_accepts_a_valid_result_and_refuses_a_duplicate(quick_results, tmp_path):
    target = submit(quick_results["oracle"], tmp_path)
    assert target.parent == tmp_path / "quick"
    assert target.name.startswith("oracle-")
    before = _snapshot(tmp_path)
    with pytest.raises(SubmissionError, match="duplicate"):
        submit(quick_results["oracle"], tmp_path)
    edited = json.loads(quick_results["oracle"].read_text())
    edited["wall_time_s"] = 1.0  # the same scores under another file content
    (tmp_path / "same.json").write_text(json.dumps(edited))
    with pytest.raises(SubmissionError, match="duplicate"):
        submit(tmp_path / "same.json", tmp_path)
    (tmp_path / "same.json").unlink()
    assert _snapshot(tmp_path) == before


def _mutated(source: Path, tmp_path: Path, edit) -> Path:
    data = json.loads(source.read_text())
    text = edit(data)
    path = tmp_path / "bad.json"
    path.write_text(text if isinstance(text, str) else json.dumps(data))
    return path


def _first(d):
    return d["runs"][0]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: "{not json", "not valid JSON"),
        (lambda d: json.dumps(d).replace('"success": 1.0', '"success": NaN', 1), "NaN is not allowed"),
        (lambda d: d["suite"].update(hash="0123456789abcdef"), "does not match its definition"),
        (lambda d: d["runs"].pop(), "missing runs"),
        (lambda d: d["agent"].update(name="../../escape"), "agent name"),
        (lambda d: d["agent"].update(name="oracle\n"), "agent name"),
        (lambda d: _first(d)["metrics"].update(success=5.0), "metric success 5.0 does not follow"),
        (lambda d: _first(d)["metrics"].update(n_trials="many"), "metric n_trials 'many'"),
        (lambda d: _first(d)["metrics"].pop("n_trials"), "metric n_trials None"),
        (lambda d: _first(d)["trials"].update(outcome="c" * 10), "10 trials, but the suite evaluates 200"),
        (lambda d: _first(d)["trials"].update(outcome="x" * 200), "letters of 'cfma'"),
        (lambda d: d.update(schema="other/9"), "schema must be"),
        (lambda d: "[" * 100000 + "]" * 100000, "nested 100000 deep"),
        (lambda d: d["runs"].append(dict(_first(d))), "appears twice"),
        (lambda d: _first(d).update(seed=99), "is not a (task, seed)"),
        (lambda d: _first(d)["metrics"].update(normalized=2.0), "metric normalized 2.0 does not follow"),
        (lambda d: _first(d).update(ceiling={"value": 0.7}), "is not this NeuroBench's"),
        (lambda d: d["agent"]["config"].update(_target_="neurobench.agents.RandomAgent"), "agent.hash does not match"),
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


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "list", "deep"])
def test_an_odd_file_in_results_is_reported_and_skipped_not_fatal(quick_results, tmp_path, kind):
    results = tmp_path / "results"
    (results / "quick").mkdir(parents=True)
    odd = results / "quick" / "odd.json"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "dev-zero":
        odd.symlink_to("/dev/zero")
    elif kind == "folder":
        odd.mkdir()
    elif kind == "list":
        odd.write_text("[1, 2]")
    else:
        odd.write_text("[" * 100000 + "]" * 100000)
    warnings = []
    target = submit(quick_results["oracle"], results, warn=warnings.append)
    assert target.exists()
    assert len(warnings) == 1
    assert "odd.json" in warnings[0]
    assert leaderboard.build(results)["LEADERBOARD.md"]


def test_leaderboard_is_byte_identical_marks_privileged_agents_and_shows_raw_scores(quick_results, tmp_path):
    for agent in ("random", "oracle", "guess"):
        submit(quick_results[agent], tmp_path)
    first = {p.name: p.read_bytes() for p in leaderboard.write(tmp_path)}
    second = {p.name: p.read_bytes() for p in leaderboard.write(tmp_path)}
    assert first == second
    assert set(first) == set(leaderboard.OUTPUTS)
    markdown = first["LEADERBOARD.md"].decode()
    assert markdown.index("| guess") < markdown.index("| oracle (privileged)")  # listed apart, after the ranked
    assert "→" in markdown
    assert "### quick v3 / working_memory" in markdown
    assert "<table" in first["leaderboard.html"].decode()
    assert "task:PerceptualDecisionMaking,success" in first["leaderboard.csv"].decode()


def test_compare_any_number_of_agents_with_figures(quick_results, tmp_path):
    report, plots = compare([quick_results["oracle"], quick_results["random"], quick_results["guess"]], tmp_path)
    assert "suite quick v3" in report
    assert "vs random" in report
    assert "vs guess" in report
    assert {p.name for p in plots} == {f"{n}.{x}" for n in ("scores", "profiles", "tasks") for x in ("png", "svg")}
    assert all(p.stat().st_size > 1000 for p in plots)


def test_compare_accepts_results_of_a_custom_suite(tmp_path):
    a = harness.run(config("suite=quick", "agent=random", "suite.eval_trials=50", run_dir=tmp_path / "a"))
    harness.run(config("suite=quick", "agent=guess", "suite.eval_trials=50", run_dir=tmp_path / "b"))
    assert a["suite"]["frozen"] is False
    report, _ = compare([tmp_path / "a" / "result.json", tmp_path / "b" / "result.json"])
    assert "random" in report
    assert "guess" in report
    with pytest.raises(SubmissionError, match="not a released suite version"):
        submit(tmp_path / "a" / "result.json", tmp_path / "results")


def test_ray_launcher_gives_the_same_results_and_refuses_impossible_requests(quick_results, tmp_path):
    pytest.importorskip("ray")
    with pytest.raises(NeuroBenchError, match="asks for more CPUs than the Ray cluster has"):
        harness.run(
            config("suite=quick", "agent=oracle", "launcher=ray", "ray.num_cpus_per_job=1000", run_dir=tmp_path / "x")
        )
    result = harness.run(config("suite=quick", "agent=oracle", "launcher=ray", run_dir=tmp_path / "r"))
    local = json.loads(quick_results["oracle"].read_text())
    assert [r["trials"] for r in result["runs"]] == [r["trials"] for r in local["runs"]]
    np.testing.assert_equal(result["aggregates"], local["aggregates"])


def test_unknown_agents_and_suites_are_named(tmp_path):
    with pytest.raises(Exception, match="quick"):
        config("suite=quik", run_dir=tmp_path)
    with pytest.raises(UnknownNameError, match="Unknown version of suite 'quick'"):
        resolve_suite({"name": "quick", "version": 99})


def test_a_runs_agents_are_loaded_and_evaluated_again_from_its_folder(tmp_path):
    from neurobench.trained import evaluate_run, load

    result = harness.run(config("suite=quick", "agent=guess", "suite.eval_trials=60", run_dir=tmp_path))
    rows = evaluate_run(tmp_path)
    assert [(r["task"], r["seed"], r["success"]) for r in rows] == [
        (r["task"], r["seed"], r["metrics"]["success"]) for r in result["runs"]
    ]
    job = load(tmp_path, task="DelayMatchSample", seed=result["runs"][-1]["seed"])
    assert job.task.name == "DelayMatchSample"
    with pytest.raises(UnknownNameError, match=r"no job matches.*task=DelayMatchSample seed=0"):
        load(tmp_path, task="DelayMatchSampl")
    with pytest.raises(UnknownNameError, match="2 jobs match"):
        load(tmp_path)
    with pytest.raises(NeuroBenchError, match=r"is not a run description|cannot be read"):
        load(tmp_path / "jobs")


def test_a_multitask_run_reports_each_tasks_score_and_submit_recomputes_it(tmp_path):
    result = harness.run(
        config("suite=multitask", "agent=guess", "suite.eval_trials=140", "suite.seeds=[0]", run_dir=tmp_path / "m")
    )
    run = result["runs"][0]
    parts = {part["task"]: part for part in run["by_task"]}
    assert set(parts) == {t.name for t in load_suite("multitask").tasks[0].build().tasks}
    assert sum(part["n_trials"] for part in parts.values()) == 140
    for part in parts.values():  # the blind policy of each task, at each task's own chance
        assert abs(part["normalized"]) < 1.0
    validate(result, released=False)
    tampered = json.loads(json.dumps(result))
    tampered["runs"][0]["by_task"][0]["success"] = 1.0
    with pytest.raises(SubmissionError, match=r"by_task .* success"):
        validate(tampered, released=False)
    shuffled = json.loads(json.dumps(result))
    shuffled["runs"][0]["trials"]["task"] = list(reversed(shuffled["runs"][0]["trials"]["task"]))
    with pytest.raises(SubmissionError, match="does not follow"):
        validate(shuffled, released=False)
