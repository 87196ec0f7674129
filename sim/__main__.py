"""``python -m sim`` is the same as the ``hedgesim`` command."""

from sim.cli import entry

entry()
