"""``hedgesim view SCENARIO [--port P] [--host H]``: watch one run in the browser.

Checks the scenario first (a bad file is reported as by every command, before any server
starts), then runs Solara's server on ``sim/view/app.py`` with the scenario's path in its
environment, in place of this process (Ctrl-C stops it). Needs the extra ``hedgesim[view]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sim.cli.common import bounded_int
from sim.errors import EXIT_ENVIRONMENT, HedgesimError

APP = Path(__file__).resolve().parents[1] / "view" / "app.py"


class ViewUnavailable(HedgesimError):
    """The view's packages are not installed. Exit status 4 (the environment)."""

    exit_code = EXIT_ENVIRONMENT


def server_command(port: int, host: str) -> list[str]:
    """The Solara server for the view's page: production mode (no code reloading, no dev tools)
    and no browser opened, since the user (or a test) opens the address printed."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--port", str(port),
            "--host", host, "--production", "--no-open"]  # fmt: skip


def cmd_view(args: argparse.Namespace) -> int:
    from sim.scenario.load import load_scenario

    load_scenario(args.scenario)  # input errors here, with file:line:col, not in the server
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        raise ViewUnavailable(
            f"hedgesim view needs the 'view' extra ({exc.name} is missing): "
            "pip install 'hedgesim[view]'"
        ) from None
    from sim.view import SCENARIO_ENV

    env = {**os.environ, SCENARIO_ENV: str(Path(args.scenario).resolve())}
    print(f"hedgesim view: http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    # The server replaces this process (exec, not a child): a signal that stops `hedgesim view`
    # (Ctrl-C, a test's terminate) stops the server, and no orphan is left serving the port.
    cmd = server_command(args.port, args.host)
    os.execve(cmd[0], cmd, env)
    return 0  # pragma: no cover - execve does not return


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "view",
        help="watch one run in the browser (Mesa's SolaraViz): network, timeline, controls",
        description="Serve an interactive view of one run of SCENARIO: the tie network now, the "
        "focal states' alignment over time with the scenario's events, and controls (step, play, "
        "pause, reset; each mechanism's switch and weight, the temperature, the replication). "
        "Input changes apply on Reset. Needs the 'view' extra: pip install 'hedgesim[view]'.",
    )
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--port", type=bounded_int(1, 65535), default=8765, help="port (default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.set_defaults(func=cmd_view)
