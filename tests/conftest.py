import os
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
# the two xdist workers share two cores: a torch (and its subprocesses') thread pool per core
# in each worker oversubscribes them; the small test models run faster on one thread
os.environ.setdefault("OMP_NUM_THREADS", "1")
# measured chance and ceiling levels: shared by this run's workers and the subprocesses
# they start, never by another run or the user's own cache
os.environ["NEUROBENCH_CACHE"] = os.path.join(
    tempfile.gettempdir(), f"neurobench-test-cache-{os.environ.get('PYTEST_XDIST_TESTRUNUID') or os.getpid()}"
)

import pytest

import neurobench

# every registered task, its latest version (older versions: ALL_VERSIONS)
TASKS = [info.name for info in neurobench.tasks()]
ALL_VERSIONS = [f"{info.name}-v{info.version}" for info in neurobench.tasks(all_versions=True)]
TRIAL_TASKS = [name for name in TASKS if neurobench.make_task(name).supervised]


@pytest.fixture(params=TASKS)
def task_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=TRIAL_TASKS)
def trial_task_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
