"""The package surface: what ``dipen`` exports, what importing it costs, the command line."""

from __future__ import annotations

import inspect
import pathlib
import subprocess
import sys

import dipen


def test_all_names_exist_and_nothing_public_is_missing():
    for name in dipen.__all__:
        assert hasattr(dipen, name), name
    public = {
        name for name, value in vars(dipen).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public - set(dipen.__all__) == set()
    assert sorted(dipen.__all__) == sorted(set(dipen.__all__)), "duplicates in __all__"


def test_every_exported_class_and_function_has_a_docstring():
    missing = [
        name for name in dipen.__all__
        if (inspect.isclass(getattr(dipen, name)) or inspect.isfunction(getattr(dipen, name)))
        and not (getattr(dipen, name).__doc__ or "").strip()
    ]
    assert missing == []


def test_every_error_is_a_dipen_error():
    errors = [getattr(dipen, n) for n in dipen.__all__ if n.endswith("Error")]
    assert len(errors) >= 10
    for error in errors:
        assert issubclass(error, dipen.DipenError)


def test_import_is_light():
    code = (
        "import sys, dipen; heavy = {'matplotlib', 'networkx', 'aetcd', 'ipywidgets', "
        "'anywidget', 'nest_asyncio2'}; print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bench_command_prints_rates():
    out = subprocess.run(
        [sys.executable, "-m", "dipen", "bench", "local", "--scale", "0.02", "--repeat", "1"],
        capture_output=True, text=True, check=True,
    )
    lines = [line for line in out.stdout.splitlines() if "firings/s" in line]
    assert len(lines) == 5
    assert "N=1 " in lines[0] and "N=64" in lines[1] and "default 100,000 events" in lines[2]
    assert lines[3].startswith("bare") and "sleep(0)" in lines[4]


def test_cli_rejects_unknown_command():
    out = subprocess.run([sys.executable, "-m", "dipen", "fly"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_the_package_is_mypy_clean():
    from mypy import api  # part of the test extra

    report, errors, status = api.run(
        ["--ignore-missing-imports", "--no-error-summary", "--cache-dir", "/tmp/dipen-mypy", "dipen"]
    )
    assert status == 0, report + errors


def test_the_tutorials_command_serves_jupyterlab(tmp_path):
    """The README's first command ends in ``dipen tutorials``: it must start JupyterLab."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "dipen", "tutorials", "--no-browser", "--port", str(port)],
        cwd=str(pathlib.Path(__file__).parent.parent), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as reply:
                    status = reply.status
            except OSError:
                time.sleep(0.3)
        assert status == 200
    finally:
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_the_tutorials_command_says_where_the_notebooks_are(tmp_path):
    out = subprocess.run([sys.executable, "-m", "dipen", "tutorials", "--dir", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "no folder" in out.stderr
