"""The ``hedgesim`` command (also ``python -m sim``): one parser, one module per command.

Each command lives in ``sim/cli/<command>.py`` with ``add_command(subparsers)`` and the function
that runs it; this module builds the parser from them, runs the command and turns every error into
one line and an exit status (sim.errors: 2 bad input, 3 a failed run, 4 the environment, 130
Ctrl-C), never a traceback for a user's mistake.

Ctrl-C while Python is still importing the command line ends with one line and status 130, like
a Ctrl-C at any later moment (:func:`entry` takes over once it runs).
"""

import os
import signal
import sys


def _interrupted_early(signum: int, frame: object) -> None:
    sys.stderr.write("interrupted\n")
    os._exit(130)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _interrupted_early)

import argparse  # noqa: E402 - after the early handler, on purpose
import contextlib  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from sim._version import __version__  # noqa: E402
from sim.cli import (  # noqa: E402
    analyze,
    build_world,
    examples,
    explain,
    export,
    fit,
    landscape,
    plot,
    run,
    schema,
    sweep,
    validate,
    view,
)
from sim.cli.common import Parser  # noqa: E402
from sim.errors import EXIT_ENVIRONMENT, EXIT_INTERRUPTED, HedgesimError  # noqa: E402

COMMANDS = (
    run,
    schema,
    sweep,
    analyze,
    export,
    plot,
    explain,
    landscape,
    validate,
    build_world,
    fit,
    examples,
    view,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``hedgesim`` parser, each command's subparser added by its own module."""
    p = Parser(
        prog="hedgesim",
        description="Agent-based simulation of how states align: does non-alignment emerge?",
        epilog="Each command has its own --help. Bad input exits 2 with file:line:col: path: "
        "message.",
    )
    p.add_argument("--version", action="version", version=f"hedgesim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_command(sub)
    return p


_ASCII = {
    "–": "-", "—": "--", "−": "-", "×": "x", "≥": ">=", "≤": "<=", "±": "+/-", "…": "...",
    "→": "->", "←": "<-", "·": ".", "’": "'", "‘": "'", "“": '"', "”": '"', "≈": "~",
    "≠": "!=", "°": " deg", "│": "|", "─": "-", "█": "#", "▏": "|",
}  # fmt: skip


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character the terminal cannot show becomes its ASCII look-alike
    (``–`` -> ``-``, ``×`` -> ``x``, ``≥`` -> ``>=``, accents dropped), else ``?``."""
    import unicodedata

    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        alt = _ASCII.get(ch)
        if alt is None:
            alt = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        out.append(alt)
    return "".join(out), exc.end


def _safe_streams() -> None:
    """Output never crashes on a terminal's encoding (``PYTHONIOENCODING=ascii``, a POSIX
    locale): what it cannot show degrades to ASCII. Files are always written as UTF-8."""
    import codecs
    import io

    try:
        codecs.lookup_error("hedgesim-ascii")
    except LookupError:
        codecs.register_error("hedgesim-ascii", _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="hedgesim-ascii")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hedgesim`` with ``argv`` (default: the command line); return its exit status."""
    # Figures are files: whatever MPLBACKEND says (a GUI, a typo), draw with Agg.
    os.environ["MPLBACKEND"] = "agg"
    _safe_streams()
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if not _interrupted(exc):
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _interrupted(exc: BaseException) -> bool:
    """Whether Ctrl-C lies behind ``exc``: a C extension's module initialisation (matplotlib's
    ft2font) turns a KeyboardInterrupt raised while it loads into ``ImportError: initialization
    failed``, chained to the interrupt. That is still the user's Ctrl-C, not a fault."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except HedgesimError as exc:
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # disk full, permissions, vanished directories: the environment
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT


def _unraisable(info: "sys.UnraisableHookArgs") -> None:
    """A Ctrl-C that lands in a weakref callback or a ``__del__`` cannot propagate: CPython prints
    it as "Exception ignored" (a traceback) and carries on, so the run would finish as if the
    user had not asked it to stop. Send the signal again from a helper thread, a moment later: it
    is then raised in the main code, where the usual clean-up runs (temporary files removed,
    workers cancelled) and it ends as one line and status 130. (Raising it from inside this hook
    would only be swallowed again.) Anything else goes to the usual hook."""
    if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
        import threading

        threading.Thread(target=_interrupt_again, daemon=True).start()
        return
    sys.__unraisablehook__(info)


_FINISHED: list[bool] = []  # set once main() has returned: nothing left to interrupt


def _interrupt_again() -> None:
    import time

    time.sleep(0.01)  # let the hook return first
    if not _FINISHED:  # not while Python shuts down, where it would be "Exception ignored"
        os.kill(os.getpid(), signal.SIGINT)


def entry() -> None:
    """The ``hedgesim`` command and ``python -m sim``: :func:`main`, then exit with its status.

    After Ctrl-C the process ends with ``os._exit(130)``: CPython marks a KeyboardInterrupt that
    escaped an ``exec`` of source text (dataclasses, pydantic and others compile code that way)
    as unhandled even when hedgesim caught it, and would then kill itself with SIGINT at exit
    (status -2, in ~1 of 7 interrupts) after saying "interrupted".
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C is KeyboardInterrupt again
    sys.unraisablehook = _unraisable
    code = main()
    _FINISHED.append(True)
    if code == EXIT_INTERRUPTED:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.exit(code)


if __name__ == "__main__":
    entry()
