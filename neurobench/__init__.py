"""NeuroBench: cognitive neuroscience tasks as fast, seeded Gymnasium environments."""

from neurobench import catalog as _catalog  # noqa: F401  (registers every task)
from neurobench.core.channels import Channels
from neurobench.core.dataset import Dataset
from neurobench.core.env import TaskEnv
from neurobench.core.errors import (
    InvalidActionError,
    InvalidParameterError,
    NeuroBenchError,
    UnknownNameError,
)
from neurobench.core.make import make, make_vec
from neurobench.core.registry import build, make_task, spec, tasks
from neurobench.core.rules import Outcome
from neurobench.core.task import Task, TrialTask
from neurobench.core.trials import TrialBatch
from neurobench.core.vector import TaskVectorEnv
from neurobench.evaluate import evaluate
from neurobench.multi import combine, parallel_env

__version__ = "0.2.0"

__all__ = [
    "Channels",
    "Dataset",
    "InvalidActionError",
    "InvalidParameterError",
    "NeuroBenchError",
    "Outcome",
    "Task",
    "TaskEnv",
    "TaskVectorEnv",
    "TrialBatch",
    "TrialTask",
    "UnknownNameError",
    "build",
    "combine",
    "evaluate",
    "make",
    "make_task",
    "make_vec",
    "parallel_env",
    "spec",
    "tasks",
]
