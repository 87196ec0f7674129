"""Start ``hedgesim view`` on a free local port for the browser tests and the screenshot script,
and the Playwright launch options for Debian's chromium (Playwright's own browsers are not
downloaded here: no network but the package registries)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = os.environ.get("HEDGESIM_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[1]


def missing_setup() -> str | None:
    """Why the browser tests cannot run here, or None: no chromium, or Solara's front-end not in
    the environment's cache (the page would stay blank). ``make test`` installs both."""
    if not Path(CHROMIUM).is_file():
        return (
            f"no chromium at {CHROMIUM}: install it (apt-get install -y chromium; `make test` "
            "does) or set HEDGESIM_CHROMIUM to its path"
        )
    from solara.server import settings

    cache = Path(settings.assets.proxy_cache_dir)
    if not any(cache.glob("@widgetti/solara-vuetify-app@*")):
        return (
            f"Solara's front-end is not in {cache}: run `{sys.executable} "
            "scripts/solara_assets.py` (`make test` does)"
        )
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def view_server(scenario: str | Path, timeout: float = 120.0) -> Iterator[str]:
    """``hedgesim view SCENARIO`` in a subprocess; yields its address once it accepts
    connections, stops it on exit. A server that dies is reported with its output."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "view", str(scenario), "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"hedgesim view exited {proc.returncode}:\n{log.read()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"hedgesim view not up in {timeout:.0f} s") from None
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
