"""The spec registry: ids and versions, variants, the nested-data grammar, errors, and what
modifiers pass through."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import neurobench
from neurobench import InvalidParameterError, UnknownNameError
from neurobench.core.registry import RegistrationError, TaskSpec, build, register, register_variants, spec, unregister
from neurobench.tasks.perceptual import PerceptualDecisionMaking
from tests.conftest import TASKS


def test_tasks_lists_every_task_with_family_tags_and_paper():
    rows = neurobench.tasks()
    assert {row.name for row in rows} == set(TASKS)
    assert all(row.family and row.paper and row.url for row in rows)
    two_choice = neurobench.tasks(tag="two-alternative")
    assert "PerceptualDecisionMaking" in {r.name for r in two_choice}
    assert all("two-alternative" in r.tags for r in two_choice)
    with pytest.raises(UnknownNameError, match="task tag"):
        neurobench.tasks(tag="two-alternatives")
    with pytest.raises(UnknownNameError, match="Did you mean 'perceptual'"):
        neurobench.tasks(family="perceptuall")


def test_older_versions_stay_buildable_beside_the_newest():
    old, new = neurobench.make_task("DelayMatchSample-v0"), neurobench.make_task("DelayMatchSample")
    assert (old.version, old.stream) == (0, "sequential")
    assert (new.version, new.stream) == (1, "keyed")
    with pytest.warns(DeprecationWarning, match="out of date"):  # Gymnasium's notice for older versions
        assert gym.make("neurobench/DelayMatchSample-v0").unwrapped.task.stream == "sequential"
    assert gym.make("neurobench/DelayMatchSample-v1").unwrapped.task.stream == "keyed"
    with pytest.raises(UnknownNameError, match="DelayMatchSample-v0, DelayMatchSample-v1"):
        neurobench.make_task("DelayMatchSample-v7")


def test_a_task_built_from_its_class_takes_its_canonical_identity():
    task = PerceptualDecisionMaking(dt=50)
    assert (task.name, task.version, task.family) == ("PerceptualDecisionMaking", 1, "perceptual")
    assert build(json.loads(json.dumps(task.node()))).dt == 50


def test_duplicate_ids_bad_factories_and_unknown_parameters_are_refused_by_name():
    with pytest.raises(RegistrationError, match="PerceptualDecisionMaking-v1 is already registered"):
        register(TaskSpec("PerceptualDecisionMaking", 1, PerceptualDecisionMaking))
    with pytest.raises(RegistrationError, match=r"'Broken'.*not callable"):
        register(TaskSpec("Broken", 0, 42))  # type: ignore[arg-type]
    with pytest.raises(RegistrationError, match=r"parameters \['colour'\] are not accepted"):
        register(TaskSpec("Colourful", 0, PerceptualDecisionMaking, {"colour": "red"}))
    with pytest.raises(RegistrationError, match="a name starts with a letter"):
        register(TaskSpec("9lives", 0, PerceptualDecisionMaking))


def test_many_variants_of_a_family_register_at_once():
    made = register_variants(
        PerceptualDecisionMaking,
        {"TestPDM.ring4": {"dim_ring": 4}, "TestPDM.easy": {"cohs": (51.2,)}},
        family="perceptual",
        paper=None,
        tags=("test",),
    )
    try:
        assert [s.id for s in made] == ["TestPDM.ring4-v0", "TestPDM.easy-v0"]
        assert neurobench.make_task("TestPDM.ring4").dim_ring == 4
        assert neurobench.make("TestPDM.easy").task.name == "TestPDM.easy"
        assert gym.make("neurobench/TestPDM.ring4-v0").unwrapped.task.dim_ring == 4
    finally:
        for s in made:
            unregister(s.id)
    with pytest.raises(UnknownNameError):
        neurobench.make_task("TestPDM.ring4")


NESTED = {
    "id": "Noise-v0",
    "params": {"std": 0.2},
    "task": {"id": "ReactionTime", "task": {"id": "PerceptualDecisionMaking-v1", "params": {"dt": 50}}},
}


def test_modified_and_composed_tasks_are_nested_data_that_survive_json():
    task = build(NESTED)
    assert task.name == "Noise(ReactionTime(PerceptualDecisionMaking))"
    assert task.dt == 50
    again = build(json.loads(json.dumps(task.node())))
    assert again.node() == task.node()
    multi = build(
        {"id": "MultiTask", "tasks": [{"id": "GoNogo", "params": {"dt": 50}}, NESTED], "params": {"schedule": "blocks"}}
    )
    assert build(json.loads(json.dumps(multi.node()))).node() == multi.node()
    env = neurobench.make(multi)
    assert gym.make(env.spec).unwrapped.task.node() == multi.node()  # the env's spec rebuilds it


@pytest.mark.parametrize(
    ("node", "fragment"),
    [
        ({"id": "Noise"}, "is a modifier: give the task it modifies"),
        ({"id": "MultiTask", "tasks": "GoNogo"}, "give them as a list under 'tasks'"),
        ({"id": "GoNogo", "task": "GoNogo"}, "takes no inner task"),
        ({"id": "GoNogo", "colour": 1}, "got keys"),
        ({"id": "GoNogo", "params": [1]}, "params of GoNogo-v0 must be a mapping"),
        (["GoNogo"], "a task is a registered name"),
        ({"id": "GoNogo", "params": {"sigm": 1}}, "Unknown parameter of GoNogo-v0 'sigm'"),
    ],
)
def test_malformed_task_data_is_refused_clearly(node, fragment):
    with pytest.raises(
        (InvalidParameterError, UnknownNameError), match=fragment.replace("(", r"\(").replace("[", r"\[")
    ):
        build(node)


def test_deeply_nested_data_is_refused_not_recursed():
    node: object = "GoNogo"
    for _ in range(100):
        node = {"id": "Noise", "task": node}
    with pytest.raises(InvalidParameterError, match="nested deeper"):
        build(node)


def test_modifiers_pass_through_what_they_do_not_change():
    pdm = neurobench.make_task("PerceptualDecisionMaking")
    noisy = neurobench.make_task(neurobench.build({"id": "Noise", "task": pdm}), dt=5)
    assert noisy.dt == 5
    assert noisy.task.dt == 5
    assert noisy.rewards == pdm.rewards
    assert noisy.timing["stimulus"] == pdm.timing["stimulus"]
    assert callable(noisy.evidence_weights)
    with pytest.raises(UnknownNameError, match="'colour'"):
        neurobench.make_task(noisy, colour=1)
    multi = build({"id": "MultiTask", "tasks": ["GoNogo", "DualDelayMatchSample"]})
    wrapped = build({"id": "Noise", "task": multi})
    assert wrapped.chance() == multi.chance()  # not an inner default


def test_core_imports_no_task_module_and_only_the_catalog_imports_task_modules():
    root = Path(neurobench.__file__).parent
    importers = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neurobench.tasks"):
                names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
                importers.setdefault(path.relative_to(root).as_posix(), set()).update(names)
    assert not [p for p in importers if p.startswith("core/")], importers
    family_modules = {
        f"neurobench.tasks.{m}" for m in ("perceptual", "working_memory", "inhibitory", "timing", "motor", "value")
    }
    outside = {p for p, modules in importers.items() if modules & family_modules and not p.startswith("tasks/")}
    assert outside == {"catalog.py"}, importers


def test_importing_neurobench_imports_neither_torch_nor_ray():
    code = "import sys, neurobench; print([m for m in ('torch', 'ray') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_spec_lookup_accepts_every_id_form():
    assert spec("GoNogo") is spec("GoNogo-v0") is spec("neurobench/GoNogo-v0")
