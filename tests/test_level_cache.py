"""Measured levels are kept on disk between processes, and a bad entry is never trusted."""

import json
import subprocess
import sys

import pytest

from neurobench.core import level_cache
from neurobench.core.task import Level

KEY = ("chance", "SomeTask", '{"id": "SomeTask-v1", "params": {}}')


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(level_cache.CACHE_ENV, str(tmp_path))
    return tmp_path / "levels"


def test_a_stored_level_comes_back_whole(cache):
    level = Level(0.625, "estimate: something measured", "estimate", 0.0125)
    level_cache.store(KEY, level)
    assert level_cache.load(KEY) == level
    assert level_cache.load(("ceiling", *KEY[1:])) is None


def test_another_code_version_measures_again(cache, monkeypatch):
    level_cache.store(KEY, Level(0.5, "exact"))
    monkeypatch.setattr(level_cache, "code_fingerprint", lambda: "another version of the code")
    assert level_cache.load(KEY) is None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"identity": null, "level": {"value": 0.5, "method": "m", "kind": "exact", "se": 0.0}}',
        "{{IDENTITY}, {NAN}}",
        '{{IDENTITY}, "level": {"value": 0.5, "method": "m", "kind": "guessed", "se": 0.0}}',
        '{{IDENTITY}, "level": {"value": "0.5", "method": "m", "kind": "exact", "se": 0.0}}',
        '{{IDENTITY}, "level": {"value": 0.5, "method": "m", "kind": "exact", "se": -1.0}}',
    ],
)
def test_a_malformed_or_foreign_entry_is_ignored(cache, content):
    level_cache.store(KEY, Level(0.5, "exact"))
    (path,) = cache.glob("*.json")
    identity = '"identity": ' + json.dumps([*KEY, level_cache.code_fingerprint()])
    nan = '"level": {"value": NaN, "method": "m", "kind": "exact", "se": 0.0}'
    path.write_text(content.replace("{IDENTITY}", identity).replace("{NAN}", nan))
    assert level_cache.load(KEY) is None


def test_the_cache_can_be_turned_off_and_an_unwritable_one_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv(level_cache.CACHE_ENV, "off")
    level_cache.store(KEY, Level(0.5, "exact"))
    assert level_cache.load(KEY) is None
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(level_cache.CACHE_ENV, str(blocker))  # its levels folder cannot be made
    level_cache.store(KEY, Level(0.5, "exact"))
    assert level_cache.load(KEY) is None


def test_a_level_measured_in_one_process_is_read_by_the_next(cache):
    script = "import json, neurobench; print(json.dumps(neurobench.make_task('Bandit').chance().as_dict()))"
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    (entry,) = cache.glob("*.json")
    stored = json.loads(entry.read_text())
    assert stored["level"] == json.loads(first.stdout)
    stored["level"]["value"] = 0.123  # a planted value proves the second process reads the entry
    entry.write_text(json.dumps(stored))
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(second.stdout)["value"] == 0.123
