"""The Binder environment, built the way Binder (repo2docker) builds it, and the tutorials run in it.

Steps, each in a fresh virtual environment made for this test (no system site packages):

1. ``pip install -r binder/requirements.txt``;
2. ``binder/postBuild`` from the repository root (it installs dipen itself: repo2docker does not
   when a ``binder/`` folder exists);
3. ``binder/start COMMAND``: the start script launches a background ``dipen etcd``, waits until it
   is healthy, exports ``DIPEN_ETCD_ENDPOINTS`` and runs the command, here: execute every tutorial
   notebook with ``jupyter nbconvert --execute`` and then check that the tutorials used that etcd.

The repository is copied first (the working tree's files, less those git ignores), so that
building and executing leave nothing behind in the clone. pip uses its cache
(``DIPEN_BINDER_PIP_CACHE=1`` lifts postBuild's ``--no-cache-dir``).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"

# a Binder build executes notebooks and starts etcd: the markers of both (a `binder` marker
# would be better; see pyproject.toml)
pytestmark = [pytest.mark.binder, pytest.mark.notebook, pytest.mark.etcd]

# After the tutorials, still inside binder/start: etcd must hold keys the tutorials wrote
# (so they used DIPEN_ETCD_ENDPOINTS and did not start an etcd of their own).
CHECK_ETCD = r"""
import base64, json, os, urllib.request
endpoint = os.environ["DIPEN_ETCD_ENDPOINTS"].split(",")[0]
request = urllib.request.Request(
    f"http://{endpoint}/v3/kv/range",
    data=json.dumps({"key": base64.b64encode(b"\0").decode(),       # every key
                     "range_end": base64.b64encode(b"\0").decode(),
                     "count_only": True}).encode(),
)
with urllib.request.urlopen(request, timeout=5) as reply:
    print("binder-check: keys in etcd:", json.load(reply).get("count", 0))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _copy_repository(target: pathlib.Path) -> None:
    """The working tree's files that git tracks or would track (not the ignored ones): what a
    clone of this state, once committed, would hold."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _run(command: list[str], cwd: pathlib.Path, env: dict[str, str], timeout: float,
         log: pathlib.Path) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}  # {time.monotonic() - started:.1f}s, "
                  f"exit {result.returncode}\n{result.stdout}\n{result.stderr}\n")
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result


def test_runtime_names_a_python_that_repo2docker_and_dipen_support():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match, f"binder/runtime.txt should read python-3.X, not {runtime!r}"
    minor = int(match.group(1))
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=3.11"
    # repo2docker ships base environments for Python 3.7 to 3.13 (and 3.14 in its newest
    # releases); 3.11 is the oldest dipen supports.
    assert 11 <= minor <= 13


def test_the_binder_files_are_executable_scripts():
    for name in ("postBuild", "start"):
        path = BINDER / name
        assert os.access(path, os.X_OK), f"binder/{name} must be executable"
        assert path.read_text().startswith("#!/bin/bash")
    assert (BINDER / "start").read_text().rstrip().endswith('exec "$@"')


def test_binder_builds_and_runs_every_tutorial(tmp_path):
    started = time.monotonic()
    repository = tmp_path / "dipen"
    repository.mkdir()
    _copy_repository(repository)
    venv = tmp_path / "venv"
    log = tmp_path / "binder.log"
    jupyter_home = tmp_path / "jupyter"
    port = _free_port()

    env = {
        key: value for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DIPEN_ETCD_ENDPOINTS",
                       "DIPEN_TUTORIAL_SCALE", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS",
                       "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR",
                       "MPLBACKEND"}
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",  # as if activated
        VIRTUAL_ENV=str(venv),
        DIPEN_BINDER_PIP_CACHE="1",
        DIPEN_BINDER_ETCD_PORT=str(port),
        DIPEN_BINDER_ETCD_LOG=str(tmp_path / "etcd.log"),
        # no kernels, settings or extensions of this machine's user: a fresh home for Jupyter
        JUPYTER_CONFIG_DIR=str(jupyter_home / "config"),
        JUPYTER_DATA_DIR=str(jupyter_home / "data"),
        IPYTHONDIR=str(jupyter_home / "ipython"),
        PYTHONDONTWRITEBYTECODE="1",
    )

    _run([sys.executable, "-m", "venv", str(venv)], repository, env, 120, log)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-r", "binder/requirements.txt"],
         repository, env, 900, log)
    _run(["./binder/postBuild"], repository, env, 900, log)
    built = time.monotonic()

    notebooks = sorted(path.relative_to(repository).as_posix()
                       for path in (repository / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 6, notebooks
    executed = tmp_path / "executed"
    command = (
        "jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 "
        f"--output-dir {executed} {' '.join(notebooks)} && python -c '{CHECK_ETCD}'"
    )
    result = _run(["./binder/start", "bash", "-c", command], repository, env, 1800, log)
    finished = time.monotonic()

    assert f"etcd is healthy on 127.0.0.1:{port}" in result.stderr
    count = re.search(r"binder-check: keys in etcd: (\d+)", result.stdout)
    assert count and int(count.group(1)) > 0, result.stdout
    for name in notebooks:
        cells = json.loads((executed / pathlib.Path(name).name).read_text())["cells"]
        errors = [output for cell in cells for output in cell.get("outputs", [])
                  if output.get("output_type") == "error"]
        assert errors == [], name

    # the command has ended: binder/start's etcd goes with it (setpriv --pdeathsig)
    deadline = time.monotonic() + 15
    while _port_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _port_open(port), "binder/start left its etcd running"

    print(f"binder check: build {built - started:.0f}s, tutorials {finished - built:.0f}s, "
          f"total {finished - started:.0f}s")
