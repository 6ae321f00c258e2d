import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

import neurobench

ALL_TASKS = [info.name for info in neurobench.tasks()]


@pytest.fixture(params=ALL_TASKS)
def task_name(request: pytest.FixtureRequest) -> str:
    return request.param
