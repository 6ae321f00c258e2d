"""The built wheel carries the configs and baselines, and runs the main job without the source tree."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_configs_and_runs_the_main_job(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(tmp_path.glob("neurobench-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "neurobench/conf/config.yaml",
        "neurobench/conf/__init__.py",
        "neurobench/conf/suite/quick.yaml",
        "neurobench/conf/agent/ppo_lstm.yaml",
        "neurobench/baselines/rllib_ppo.py",
    ):
        assert needed in names, needed
    sources = {f"neurobench/{p.relative_to(ROOT / 'neurobench')}" for p in (ROOT / "neurobench").rglob("*.py")}
    sources |= {
        f"neurobench/{sub}/{p.relative_to(ROOT / sub)}"
        for sub in ("conf", "baselines")
        for p in (ROOT / sub).rglob("*.py")
    }
    missing = sorted(sources - set(names))
    assert not missing, f"modules left out of the wheel (pyproject's package list): {missing}"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "neurobench", "suite=quick", "agent=oracle", "progress=false"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (work / "runs" / "quick" / "oracle" / "result.json").exists()
    probe = subprocess.run(
        [sys.executable, "-c", "import neurobench, sys; print(neurobench.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.stdout.startswith(str(site))  # the wheel's copy ran, not the source tree
