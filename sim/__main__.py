"""``python -m sim`` is the same as the ``hedgesim`` command.

Ctrl-C while Python is still importing the command line ends with one line and status 130, like
a Ctrl-C at any later moment (``sim.cli.main.entry`` takes over from here).
"""

import os
import signal
import sys


def _interrupted_early(signum: int, frame: object) -> None:
    sys.stderr.write("interrupted\n")
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted_early)

from sim.cli.main import entry  # noqa: E402 - after the handler, on purpose

entry()
