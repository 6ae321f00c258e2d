"""NeuroBench: cognitive neuroscience tasks as fast, seeded Gymnasium environments."""

from neurobench import tasks as _families  # noqa: F401  (registers every task)
from neurobench import wrappers  # registers MultiTask
from neurobench.core.channels import Channels
from neurobench.core.dataset import Dataset
from neurobench.core.env import TaskEnv
from neurobench.core.errors import (
    InvalidActionError,
    InvalidParameterError,
    NeuroBenchError,
    UnknownNameError,
)
from neurobench.core.registry import make, make_task, task_class, tasks
from neurobench.core.rules import Outcome
from neurobench.core.task import Task
from neurobench.core.trials import TrialBatch
from neurobench.core.vector import TaskVectorEnv, make_vec
from neurobench.multi import combine

__version__ = "0.1.0"

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
    "UnknownNameError",
    "combine",
    "make",
    "make_task",
    "make_vec",
    "task_class",
    "tasks",
    "wrappers",
]
