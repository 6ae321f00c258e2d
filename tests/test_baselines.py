"""Baselines (RLlib PPO, supervised RNN): a short run of each through the main job.

Needs the ``rllib`` extra (torch and ray); CI installs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from neurobench import run as harness  # noqa: E402
from neurobench.core.errors import NeuroBenchError  # noqa: E402
from neurobench.scoring.results import validate  # noqa: E402
from neurobench.suites import resolve_suite  # noqa: E402
from tests.test_harness import config  # noqa: E402

TINY = {
    "ppo_lstm": [
        "agent.train_batch_size=400",
        "agent.minibatch_size=200",
        "agent.num_epochs=1",
        "agent.num_envs_per_env_runner=2",
        "suite.budget=800",
    ],
    "ppo_mlp": [
        "agent.train_batch_size=400",
        "agent.minibatch_size=200",
        "agent.num_epochs=1",
        "agent.num_envs_per_env_runner=2",
        "suite.budget=800",
    ],
    "rnn_supervised": ["suite.budget=20000", "agent.hidden_size=16"],
    "ppo_multiagent": [
        "agent.train_batch_size=400",
        "agent.minibatch_size=200",
        "agent.num_epochs=1",
        "suite.budget=800",
        "suite.seeds=[0]",
    ],
}


@pytest.mark.parametrize("agent", sorted(TINY))
def test_each_baseline_runs_the_quick_suite_and_writes_a_valid_result(agent, tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RAY_AUTH_MODE": "disabled"}
    suite = "multiagent" if agent == "ppo_multiagent" else "quick"
    overrides = [f"agent={agent}", f"suite={suite}", "suite.eval_trials=40", "progress=false", f"run_dir={tmp_path}"]
    done = subprocess.run(
        [sys.executable, "-m", "neurobench", *overrides, *TINY[agent]],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    suite = resolve_suite(_suite(tmp_path))
    assert validate(result, released=False).hash == suite.hash
    assert result["agent"]["name"] == agent
    assert all(run["metrics"]["n_trials"] == 40 for run in result["runs"])
    assert any((tmp_path / "work").rglob("*")), "learning agents checkpoint into the run directory"
    again = subprocess.run(
        [sys.executable, "-m", "neurobench", "evaluate", f"run_dir={tmp_path}", f"out={tmp_path / 'again.csv'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    table = pd.read_csv(tmp_path / "again.csv")  # the saved models, not retrained: the same scores
    expected = {(r["task"], r["seed"]): r["metrics"]["success"] for r in result["runs"]}
    assert {(t, s): v for t, s, v in zip(table.task, table.seed, table.success, strict=True)} == expected


def _suite(run_dir: Path) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "config.yaml").suite, resolve=True)


def test_ppo_resumes_from_its_checkpoint(tmp_path):
    from neurobench.baselines.rllib_ppo import PPOAgent

    import neurobench

    task = neurobench.make_task("PerceptualDecisionMaking")
    agent = PPOAgent(train_batch_size=400, minibatch_size=200, num_epochs=1, num_envs_per_env_runner=2)
    agent.fit(task, seed=0, budget=800, workdir=tmp_path)
    first = json.loads((tmp_path / "progress.json").read_text())["env_steps"]
    assert first >= 800
    agent.fit(task, seed=0, budget=first, workdir=tmp_path)  # nothing left to do: restored, not retrained
    assert agent.trained_steps == first
    agent.fit(task, seed=0, budget=first + 400, workdir=tmp_path)
    assert agent.trained_steps >= first + 400


@pytest.mark.parametrize("carry_state", [False, True])
def test_supervised_rnn_resumes_from_its_checkpoint(tmp_path, carry_state):
    from neurobench.baselines.supervised_rnn import SupervisedRNN

    import neurobench

    task = neurobench.make_task("PerceptualDecisionMaking")
    small = {"hidden_size": 8, "batch_size": 4, "seq_len": 20, "checkpoint_every": 2, "carry_state": carry_state}
    straight = SupervisedRNN(**small)
    straight.fit(task, seed=0, budget=400)
    resumed = SupervisedRNN(**small)
    resumed.fit(task, seed=0, budget=240, workdir=tmp_path)
    resumed.fit(task, seed=0, budget=400, workdir=tmp_path)
    for a, b in zip(straight.net.parameters(), resumed.net.parameters(), strict=True):
        torch.testing.assert_close(a, b)  # resuming gives the network training straight through gives
    assert json.loads((tmp_path / "progress.json").read_text())["dataset"]["format"] == "neurobench.dataset/1"


def test_a_trained_model_is_kept_and_evaluated_again_without_retraining(tmp_path):
    from neurobench.baselines.supervised_rnn import SupervisedRNN

    import neurobench
    from neurobench.evaluate import evaluate

    task = neurobench.make_task("PerceptualDecisionMaking")
    trained = SupervisedRNN(hidden_size=16)
    trained.fit(task, seed=0, budget=60_000)
    trained.save(tmp_path)
    first = evaluate(trained, task, seed=5, n_trials=200)
    again = SupervisedRNN(hidden_size=16)
    again.load(tmp_path, task)
    np.testing.assert_array_equal(evaluate(again, task, seed=5, n_trials=200)["response"], first["response"])


def test_supervised_rnn_learns_delay_match_sample_and_acts_from_a_zero_state():
    """Trained with its state carried across batches, the network failed the first trial of
    every evaluation env (it had met a zero state once), capping DelayMatchSample near 0.8."""
    from neurobench.baselines.supervised_rnn import SupervisedRNN

    import neurobench
    from neurobench.evaluate import evaluate
    from neurobench.scoring import run_metrics

    task = neurobench.make_task("DelayMatchSample")
    agent = SupervisedRNN()
    agent.fit(task, seed=0, budget=1_000_000)
    records = evaluate(agent, task, seed=1_000_000, n_trials=500, num_envs=64)
    assert run_metrics(records, task)["normalized"] >= 0.85
    first_trials = records[records["trial"] < 64]  # each env's first trial starts from a zero state
    assert (first_trials["outcome"] == "correct").mean() >= 0.7


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["agent=ppo_lstm", "agent.model=transformer"], "unknown model type 'transformer'"),
        (["agent=ppo_lstm", "agent.hidden_size=0"], "hidden_size must be an integer >= 1"),
        (["agent=ppo_lstm", "suite.budget=-5"], "budget must be integers >= 0"),
        (["agent=ppo_mlp", "agent.lr=0"], "lr must be > 0"),
        (["agent=rnn_supervised", "agent.cell=transformer"], "unknown cell type 'transformer'"),
        (["agent=rnn_supervised", "agent.hidden_size=0"], "hidden_size must be an integer >= 1"),
        (["agent=ppo_multiagent", "agent.model=gru"], "unknown model type 'gru'"),
    ],
)
def test_bad_baseline_configs_fail_before_any_training(overrides, fragment, tmp_path):
    with pytest.raises(NeuroBenchError, match=fragment):
        harness.run(config("suite=quick", *overrides, run_dir=tmp_path))
    assert not (tmp_path / "jobs").exists()
