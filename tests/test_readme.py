"""The README's Python examples run as written."""

import re
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    code = BLOCKS[index]
    if "import torch" in code or ", torch" in code:
        pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for previous in BLOCKS[:index]:  # later examples build on earlier ones, as a reader's session would
        if "torch" not in previous:
            exec(compile(previous, "README", "exec"), namespace)
    exec(compile(code, "README", "exec"), namespace)


def test_readme_commands_match_ci():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    test_command = next(line for line in README.splitlines() if "pytest" in line and not line.startswith("#"))
    assert test_command.strip() in ci
