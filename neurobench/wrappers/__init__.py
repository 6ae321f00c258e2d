"""Modifiers: task-level ones transform trials (so the single env, the vector env and the
Dataset all see them); env-level ones depend on the agent's actions or record what happens."""

from neurobench.wrappers.base import TaskWrapper
from neurobench.wrappers.feedback import PassAction, PassActionVector, PassReward, PassRewardVector
from neurobench.wrappers.history import SideBias, TrialHistory
from neurobench.wrappers.monitor import Monitor, VectorMonitor
from neurobench.wrappers.noise import Noise
from neurobench.wrappers.reaction_time import ReactionTime
from neurobench.wrappers.schedule import MultiTask, ScheduleAttr

__all__ = [
    "Monitor",
    "MultiTask",
    "Noise",
    "PassAction",
    "PassActionVector",
    "PassReward",
    "PassRewardVector",
    "ReactionTime",
    "ScheduleAttr",
    "SideBias",
    "TaskWrapper",
    "TrialHistory",
    "VectorMonitor",
]
