import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

import neurobench

# every registered single task (MultiTask, a schedule of tasks, and the games have tests of their own)
ALL_TASKS = [info.name for info in neurobench.tasks() if info.family not in ("multitask", "multiagent")]


@pytest.fixture(params=ALL_TASKS)
def task_name(request: pytest.FixtureRequest) -> str:
    return request.param
