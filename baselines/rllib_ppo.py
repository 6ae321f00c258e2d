"""RLlib PPO baselines (new API stack: RLModule / Learner / EnvRunner), LSTM or MLP.

The policy trains on the task's Gymnasium env (any task: modified tasks, schedules, or a
game against its reference opponent), sessions of ``trials_per_episode`` trials, until
the job's budget of env steps is spent; it checkpoints every
``checkpoint_every`` iterations into the job's work folder and resumes from there. It is
then evaluated by the harness like every agent, acting greedily (or sampling) from the
trained RLModule with its recurrent state carried across trials.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from neurobench.baselines.actions import choose

from neurobench.agents.base import Agent
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError
from neurobench.core.task import Task
from neurobench.scoring.results import write_json

log = logging.getLogger("neurobench")

MODELS = ("lstm", "mlp")
VECTORIZE_MODES = ("sync", "vector_entry_point")


class PPOAgent(Agent):
    """PPO with a recurrent (``model="lstm"``) or feed-forward (``"mlp"``) policy."""

    name: ClassVar[str] = "ppo"

    def __init__(
        self,
        model: str = "lstm",
        hidden_size: int = 64,
        fcnet_hiddens: tuple[int, ...] = (64,),
        max_seq_len: int = 20,
        lr: float = 1e-3,
        gamma: float = 0.99,
        lambda_: float = 0.95,
        entropy_coeff: float = 0.01,
        vf_loss_coeff: float = 0.5,
        train_batch_size: int = 2000,
        minibatch_size: int = 500,
        num_epochs: int = 4,
        num_env_runners: int = 0,
        num_envs_per_env_runner: int = 8,
        vectorize_mode: str = "sync",
        trials_per_episode: int = 20,
        greedy: bool = True,
        checkpoint_every: int = 20,
    ) -> None:
        if model not in MODELS:
            raise InvalidParameterError(f"unknown model type {model!r}; valid: {', '.join(MODELS)}")
        if vectorize_mode not in VECTORIZE_MODES:
            raise InvalidParameterError(
                f"unknown vectorize_mode {vectorize_mode!r}; valid: {', '.join(VECTORIZE_MODES)}"
            )
        value: float  # the integer parameters, then the real ones
        for key, value in (
            ("hidden_size", hidden_size),
            ("max_seq_len", max_seq_len),
            ("train_batch_size", train_batch_size),
            ("minibatch_size", minibatch_size),
            ("num_epochs", num_epochs),
            ("num_envs_per_env_runner", num_envs_per_env_runner),
            ("trials_per_episode", trials_per_episode),
            ("checkpoint_every", checkpoint_every),
        ):
            check_int(key, value, minimum=1)
        check_int("num_env_runners", num_env_runners, minimum=0)
        for key, value in (("lr", lr), ("gamma", gamma), ("lambda_", lambda_)):
            check_number(key, value, minimum=0)
            if value == 0 and key == "lr":
                raise InvalidParameterError("lr must be > 0")
        for key, value in (("entropy_coeff", entropy_coeff), ("vf_loss_coeff", vf_loss_coeff)):
            check_number(key, value, minimum=0)
        if minibatch_size > train_batch_size:
            raise InvalidParameterError(
                f"minibatch_size ({minibatch_size}) cannot exceed train_batch_size ({train_batch_size})"
            )
        hiddens = [int(h) for h in fcnet_hiddens]
        for h in hiddens:
            check_int("fcnet_hiddens entries", h, minimum=1)
        self.settings = dict(locals())
        del self.settings["self"]
        self.settings["fcnet_hiddens"] = hiddens

    # -- training ------------------------------------------------------------------
    def fit(
        self,
        task: Task,
        *,
        seed: int,
        budget: int,
        workdir: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        import torch

        torch.set_num_threads(1)  # with default threads and any other load, PPO slows ~50x
        check_int("budget", budget, minimum=0)
        _ensure_ray()
        algo = self._config(task, seed).build_algo()
        checkpoint = None if workdir is None else Path(workdir).resolve() / "checkpoint"  # RLlib wants absolute paths
        try:
            done = _restore(algo, checkpoint)
            while done < budget:
                done = _steps(algo.train())
                if progress is not None:
                    progress(min(done, budget), budget)
                if (
                    checkpoint is not None
                    and done < budget
                    and _iteration(algo) % self.settings["checkpoint_every"] == 0
                ):
                    _save(algo, checkpoint, done)
            if checkpoint is not None:
                _save(algo, checkpoint, done)
            self.module = algo.get_module(self.module_id)
            self.module.eval()
            self.width = task.n_actions if task.continuous else None
            self.trained_steps = done
        finally:
            algo.stop()

    module_id: ClassVar[str] = "default_policy"  # RLlib's id of a single-agent module

    def _config(self, task: Task, seed: int) -> Any:
        from ray.rllib.algorithms.ppo import PPOConfig
        from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

        s = self.settings
        lstm = s["model"] == "lstm"
        model = DefaultModelConfig(
            fcnet_hiddens=s["fcnet_hiddens"] if lstm else [*s["fcnet_hiddens"], s["hidden_size"]],
            use_lstm=lstm,
            lstm_cell_size=s["hidden_size"],
            max_seq_len=s["max_seq_len"],
        )
        config = (
            PPOConfig()
            .env_runners(
                num_env_runners=s["num_env_runners"],
                num_envs_per_env_runner=s["num_envs_per_env_runner"],
                gym_env_vectorize_mode=s["vectorize_mode"],
            )
            .training(
                lr=s["lr"],
                gamma=s["gamma"],
                lambda_=s["lambda_"],
                entropy_coeff=s["entropy_coeff"],
                vf_loss_coeff=s["vf_loss_coeff"],
                train_batch_size_per_learner=s["train_batch_size"],
                minibatch_size=s["minibatch_size"],
                num_epochs=s["num_epochs"],
            )
            .rl_module(model_config=model)
            .debugging(seed=seed, log_level="ERROR")
        )
        return self._environment(config, task)

    def _environment(self, config: Any, task: Task) -> Any:
        """Train on the task's env: registered with RLlib as a creator holding the task
        itself, so modified tasks, schedules and games against their opponents all work (and
        remote env runners get it by pickling). With ``vectorize_mode: vector_entry_point``
        the creator builds NeuroBench's native vector env (for every task kind)."""
        from ray.tune.registry import register_env

        from neurobench.core.env import TaskEnv
        from neurobench.core.vector import TaskVectorEnv

        trials = self.settings["trials_per_episode"]

        def create(context: Mapping[str, Any]) -> Any:
            num_envs = context.get("num_envs")
            if num_envs:
                return TaskVectorEnv(task, num_envs, trials_per_episode=trials)
            return TaskEnv(task, trials_per_episode=trials)

        name = f"neurobench-{_safe(task.name)}"
        register_env(name, create)
        return config.environment(env=name)

    def save(self, folder: Path) -> None:
        """The trained policy (an RLModule checkpoint), to act later without retraining."""
        self.module.save_to_path(str(Path(folder).resolve() / "module"))

    def load(self, folder: Path, task: Task) -> None:
        """A policy saved by :meth:`save`, or the latest training checkpoint of :meth:`fit`."""
        from ray.rllib.core.rl_module.rl_module import RLModule

        folder = Path(folder).resolve()
        path = folder / "module"
        if not path.exists():  # fit's algorithm checkpoint holds the module too
            path = folder / "checkpoint" / "learner_group" / "learner" / "rl_module" / self.module_id
        self.module = RLModule.from_checkpoint(str(path))
        self.module.eval()
        self.width = task.n_actions if task.continuous else None

    def hidden(self, state: tuple[Any, Any]) -> np.ndarray | None:
        recurrent = state[0]
        if recurrent is None:
            return None
        return recurrent["h"].numpy() if "h" in recurrent else None

    # -- acting --------------------------------------------------------------------
    def initial_state(self, num_envs: int, *, seed: int) -> tuple[Any, Any]:
        import torch

        generator = torch.Generator().manual_seed(seed)
        if self.settings["model"] != "lstm":
            return None, generator
        state = {k: v[None].repeat(num_envs, *([1] * v.dim())) for k, v in self.module.get_initial_state().items()}
        return state, generator

    def act(self, obs: np.ndarray, state: tuple[Any, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        import torch

        recurrent, generator = state
        observation = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))
        with torch.no_grad():
            if recurrent is None:
                out = self.module.forward_inference({"obs": observation})
                logits = out["action_dist_inputs"]
            else:
                out = self.module.forward_inference({"obs": observation[:, None], "state_in": recurrent})
                logits, recurrent = out["action_dist_inputs"][:, 0], out["state_out"]
            if self.width is not None:  # a Box action: the Gaussian's mean (and log std after it)
                mean = logits[:, : self.width]
                if not self.settings["greedy"]:
                    std = torch.exp(logits[:, self.width :])
                    mean = mean + std * torch.randn(mean.shape, generator=generator)
                return np.clip(mean.numpy(), -1.0, 1.0), (recurrent, generator)
            actions = choose(logits, self.settings["greedy"], generator)
        return actions, (recurrent, generator)


def _ensure_ray() -> None:
    """Start Ray once per process (about 2 s and 700 MB), or join the running one."""
    import ray

    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address is None:
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def _steps(result: Mapping[str, Any]) -> int:
    """Env steps sampled so far (RLlib restores this count with a checkpoint)."""
    return int(result.get("num_env_steps_sampled_lifetime", 0))


def _iteration(algo: Any) -> int:
    return int(algo.iteration)


def _save(algo: Any, checkpoint: Path, steps: int) -> None:
    """Checkpoint, then record its step count; the count file marks it complete."""
    algo.save_to_path(str(checkpoint))
    write_json(checkpoint.parent / "progress.json", {"env_steps": steps})


def _restore(algo: Any, checkpoint: Path | None) -> int:
    """Resume from a complete checkpoint if there is one; return its env steps."""
    if checkpoint is None or not (checkpoint.parent / "progress.json").exists():
        return 0
    algo.restore_from_path(str(checkpoint))
    steps = int(json.loads((checkpoint.parent / "progress.json").read_text())["env_steps"])
    log.info("resumed from %s at %d env steps", checkpoint, steps)
    return steps
