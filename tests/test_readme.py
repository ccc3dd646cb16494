"""The README stays true: its Python examples run and print what their comments say, the two
commands are the ones CI runs, and every ``dipen.NAME`` and ``dipen COMMAND`` it mentions exists."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

import dipen
from dipen.cli import _parser

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.MULTILINE | re.DOTALL)


def _expected_prints(code: str) -> list[str]:
    """``print(...)  # what it prints`` lines: the comment is the expected output
    (``...`` matches anything)."""
    return [line.split("#", 1)[1].strip() for line in code.splitlines()
            if line.strip().startswith("print(") and "#" in line]


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize(
    "code",
    [pytest.param(code, id=f"block{number}",
                  marks=[pytest.mark.etcd] if "local_etcd" in code else [])
     for number, code in enumerate(BLOCKS, 1)],
)
def test_python_example_runs_and_prints_what_it_says(code, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("DIPEN_ETCD_ENDPOINTS", None)
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    expected = _expected_prints(code)
    assert len(printed) == len(expected), (printed, expected)
    for line, wanted in zip(printed, expected):
        pattern = ".*".join(re.escape(part) for part in wanted.split("..."))
        assert re.fullmatch(pattern, line), (line, wanted)


def test_the_two_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = ('python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && '
                    ".venv/bin/python -m pytest")
    assert test_command in ci
    assert f"\n{test_command}\n" in README
    assert ('\npython3 -m venv .venv && .venv/bin/pip install -e ".[jupyter,etcd]" && '
            ".venv/bin/dipen tutorials\n") in README


def test_every_dipen_name_in_the_readme_exists():
    names = set(re.findall(r"\bdipen\.([A-Za-z_][A-Za-z_0-9]*)", README))
    missing = sorted(name for name in names
                     if not hasattr(dipen, name) and not (ROOT / "dipen" / f"{name}.py").exists())
    assert missing == []


def test_every_command_in_the_readme_exists():
    parser = _parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    mentioned = set(re.findall(r"`dipen ([a-z]+)", README))
    assert mentioned and mentioned <= set(commands), mentioned - set(commands)
    bench = next(action for action in commands["bench"]._actions if action.dest == "kind").choices
    for kinds in re.findall(r"dipen bench ([a-z|]+)", README):
        assert set(kinds.split("|")) <= set(bench), kinds


def test_the_binder_link_points_at_the_tutorials():
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", README)
    assert links and all(link == "https://mybinder.org/v2/gh/OWNER/dipen/HEAD?labpath=notebooks"
                         for link in links)
    for notebook in re.findall(r"\(notebooks/([^)]+\.ipynb)\)", README):
        assert (ROOT / "notebooks" / notebook).exists(), notebook
