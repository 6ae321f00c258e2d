"""The README's Python examples run as written, in order, as a reader's session would; the
own-model example learns what the README says it learns."""

import re
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_examples_run_in_order_and_the_own_model_example_learns(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for index, code in enumerate(BLOCKS):
        try:
            exec(compile(code, f"README block {index}", "exec"), namespace)
        except Exception as error:  # name the block that broke
            raise AssertionError(f"README block {index} failed: {error!r}\n{code}") from error
    assert namespace["score"] >= 0.9  # "reaches >= 0.9 normalized on DelayMatchSample"
    assert (tmp_path / "state_space.png").stat().st_size > 10_000
    assert {p.name for p in tmp_path.iterdir()} >= {"trials.png", "trials.svg", "chronometric.png"}


def test_readme_commands_match_ci():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    test_command = next(line for line in README.splitlines() if "pytest" in line and not line.startswith("#"))
    assert test_command.strip() in ci


def test_the_contributing_template_passes_the_conformance_kit():
    from neurobench.core.registry import register, unregister
    from neurobench.testing import check_task

    text = (Path(__file__).parent.parent / "CONTRIBUTING.md").read_text()
    template = next(block for block in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "SPECS" in block)
    namespace: dict = {}
    exec(compile(template, "CONTRIBUTING", "exec"), namespace)
    spec = register(namespace["SPECS"][0])
    try:
        task = check_task("CueReport")
        assert task.chance().value == 0.5
    finally:
        unregister(spec.id)
