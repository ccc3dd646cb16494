"""The live view in a real browser: JupyterLab, a notebook that runs a net, headless Chromium.

The tests start their own JupyterLab on a free loopback port (with its own config, data,
runtime, settings and workspace directories, so nothing of the user's setup leaks in), write a
notebook that builds a small net with a ``LiveView`` and starts the runner, open it in Debian's
Chromium driven by Playwright, run all cells and read the marking from the view's SVG while the
net runs. Then they drive the view's own buttons: Pause, Run, Reset and Step.

They run twice: with JupyterLab's default of sending widget messages to a kernel *subshell*
(ipykernel 7 handles them in another thread, on another event loop than the cells'), and with
comms on the main shell, as older JupyterLab and ipykernel versions do.

Chromium comes from Debian (``apt-get install chromium``; the fixture installs it when it runs as
root), never from ``playwright install``. The last screenshots land in ``tests/browser/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SCREENSHOTS = pathlib.Path(__file__).parent / "browser"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT = 20.0  # seconds for anything the browser or the kernel should do soon

# the kernel's own status in the status bar, not the notebook's execution indicator, which says
# "idle" for a moment before the kernel connects
KERNEL_IDLE_JS = """() => {
  const bar = document.querySelector("#jp-main-statusbar");
  return !!bar && /Python 3 \\(ipykernel\\) \\| Idle/.test(bar.innerText);
}"""

# Each place of the view is a <g class="dl-node dl-place">: its circle, a group of token dots (up
# to four tokens, hollow when a firing holds them), a count text (used from five tokens on), a
# capacity text when the place has a capacity, and its name as the last text.
PLACE_COUNTS_JS = """() => {
  const counts = {};
  for (const g of document.querySelectorAll(".dipen-live g.dl-place")) {
    const texts = g.querySelectorAll(":scope > text");
    const name = texts[texts.length - 1].textContent;
    const count = texts[0].textContent.trim();
    counts[name] = count ? parseInt(count, 10) : g.querySelectorAll(":scope > g > circle").length;
  }
  return counts;
}"""

NOTEBOOK_CELLS = [
    '''\
import dipen

net = dipen.Net("browser").place("source", tokens=5).place("target")

@net.transition(take="source", give="target")
async def move(token):
    await dipen.sleep(1)
    return token

runner = dipen.Runner(net, clock="simulated")
runner.clock.speed = 1  # simulated seconds per wall second: one firing a second
view = dipen.LiveView(runner)
view''',
    "task = runner.start()",
]


# -- Chromium --------------------------------------------------------------------------------------


def _find_chromium() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get when it is missing and we are root."""
    found = _find_chromium()
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        result = subprocess.run(
            "apt-get update -qq && apt-get install -y -qq chromium", shell=True, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
            check=False,
        )
        found = _find_chromium()
        if found is None:
            pytest.fail(f"installing Debian's chromium with apt-get failed "
                        f"(exit {result.returncode}):\n{result.stdout[-3000:]}")
    if found is None:
        pytest.fail("the browser tests need Debian's Chromium: run `apt-get install chromium` as "
                    "root (or put a `chromium` on PATH); `playwright install` is not used")
    return found


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium,
            headless=False,  # CHROMIUM_ARGS say --headless=new
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT * 1000)
        try:
            yield context
        finally:
            context.close()


# -- JupyterLab ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: pathlib.Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


class Lab:
    """A JupyterLab server of our own, in ``home`` (notebooks in ``home/notebooks``)."""

    def __init__(self, home: pathlib.Path) -> None:
        self.root = home / "notebooks"
        self.root.mkdir()
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "jupyter.log"
        self.settings = home / "user-settings"
        config = home / "config"
        (config / "labconfig").mkdir(parents=True)
        # no "would you like news?" toast over the notebook
        (config / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
        self.command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={self.settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        self.env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            # the kernel is this interpreter (jupyter_client maps "python" to sys.executable)
            PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
            PYTHONUNBUFFERED="1",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def api(self, method: str, path: str, timeout: float = 5.0) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, cwd=self.root, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.process.returncode}:\n{_tail(self.log)}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except OSError:  # refused, reset or timed out (URLError is an OSError)
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 60 s:\n{_tail(self.log)}")
                time.sleep(0.2)

    def set_setting(self, plugin: str, values: dict[str, Any]) -> None:
        """Write a user setting; pages opened from now on read it."""
        package, name = plugin.split(":")
        path = self.settings / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    def shut_down_kernels(self, notebook: str) -> None:
        for session in self.api("GET", "/api/sessions"):
            if session["path"] == notebook:
                self.api("DELETE", f"/api/sessions/{urllib.parse.quote(session['id'])}",
                         timeout=15)

    def stop(self) -> None:
        """Shut down the kernels and the server; kill what is left after a grace period."""
        process = self.process
        if process is None:
            return
        self.process = None
        import psutil  # type: ignore[import-untyped]  # ipykernel's dependency

        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        with contextlib.suppress(OSError):
            self.api("POST", "/api/shutdown")  # stops the kernels too
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:  # a kernel the server left behind
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(alive, timeout=5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = Lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def write_notebook(path: pathlib.Path, cells: list[str]) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}},
    )
    nbformat.write(notebook, path)


def poll(check: Callable[[], Any], what: str | Callable[[], str], timeout: float = TIMEOUT
         ) -> Any:
    """Call ``check`` until it returns something true; else fail saying ``what`` went wrong."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what() if callable(what) else what} (waited {timeout:.0f} s)")
        time.sleep(0.05)


# -- the test --------------------------------------------------------------------------------------

COMMS = {
    # JupyterLab 4.6's default: widget messages go to a kernel subshell (another thread and
    # event loop in ipykernel 7)
    "comms-over-subshells": "perCommTarget",
    "comms-on-main-shell": "disabled",
}


@pytest.mark.parametrize("comms", list(COMMS))
def test_live_view_follows_a_running_net_and_its_buttons_drive_it(
    lab: Lab, browser: Any, comms: str,
) -> None:
    lab.set_setting("@jupyterlab/apputils-extension:kernels-settings",
                    {"commsOverSubshells": COMMS[comms]})
    notebook = f"live-{comms}.ipynb"
    write_notebook(lab.root / notebook, NOTEBOOK_CELLS)
    page = browser.new_page()
    view = page.locator(".dipen-live")
    status = view.locator(".dl-status")
    notice = view.locator(".dl-notice")

    def counts() -> dict[str, int]:
        return page.evaluate(PLACE_COUNTS_JS)  # type: ignore[no-any-return]

    def shown() -> str:
        return f"the view shows {counts()}, {status.inner_text()!r}, {notice.inner_text()!r}"

    def button(name: str) -> Any:
        return view.locator(".dl-bar").get_by_role("button", name=name, exact=True)

    try:
        # a workspace of its own (reset), so that no other notebook opens with this one
        page.goto(f"{lab.url}/lab/workspaces/{comms}/tree/{notebook}?reset&token={lab.token}")
        page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()

        view.locator(".dl-net svg g.dl-place").first.wait_for()
        assert view.locator(".dl-net svg g.dl-place").count() == 2
        assert view.locator(".dl-net svg g.dl-transition").count() == 1

        # the runner runs in the kernel's background, one firing a second; the view follows
        seen = [counts()]

        def moved_on() -> bool:
            seen.append(counts())
            return seen[-1].get("target", 0) >= max(2, seen[0].get("target", 0) + 1)

        poll(moved_on, lambda: f"the tokens did not move on to 'target': {shown()}")
        for marking in seen:
            assert set(marking) == {"source", "target"}, seen
            assert marking["source"] + marking["target"] == 5, seen  # taken ones stay shown
        sources = [marking["source"] for marking in seen]
        targets = [marking["target"] for marking in seen]
        assert sources == sorted(sources, reverse=True) and sources[-1] < sources[0], seen
        assert targets == sorted(targets), seen

        # Pause: the run ends where it is
        button("Pause").click()
        poll(lambda: "idle" in status.inner_text(), lambda: f"Pause did not stop the run: {shown()}")
        paused = counts()
        assert paused["source"] + paused["target"] == 5 and paused["source"] > 0, paused

        # Run: it goes on to the end, the paused firing included
        button("Run").click()
        poll(lambda: counts() == {"source": 0, "target": 5},
             lambda: f"Run after Pause did not move the other tokens: {shown()}")
        poll(lambda: "ended (quiescent)" in notice.inner_text(),
             lambda: f"the run did not end: {shown()}")

        # Reset, then Step: exactly one token moves
        button("Reset").click()
        poll(lambda: counts() == {"source": 5, "target": 0},
             lambda: f"Reset did not bring the tokens back: {shown()}")
        button("Step").click()
        poll(lambda: "fired 'move'" in notice.inner_text(),
             lambda: f"Step did not fire 'move': {shown()}")
        poll(lambda: counts() == {"source": 4, "target": 1},
             lambda: f"Step did not move one token: {shown()}")
        poll(lambda: "idle" in status.inner_text(), lambda: f"Step did not end: {shown()}")
        assert counts() == {"source": 4, "target": 1}, shown()
    finally:
        SCREENSHOTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):  # never hide the failure itself
            page.screenshot(path=str(SCREENSHOTS / f"last-{comms}.png"))
            if comms == "comms-over-subshells":  # what people get by default
                shutil.copyfile(SCREENSHOTS / f"last-{comms}.png", SCREENSHOTS / "last.png")
        page.close()
        with contextlib.suppress(OSError):
            lab.shut_down_kernels(notebook)
