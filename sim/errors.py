"""The errors hedgesim reports to a user, each with the exit status the command ends with.

Why one family: the command line catches exactly :class:`HedgesimError`, prints its lines and exits
with its ``exit_code``, so a user never sees a traceback for a mistake in their own file, a failed
run or a busy directory, and a Python caller can catch one type. Bad input is an
:class:`InputError` printed as ``file:line:col: field.path: message`` (the tests assert on the
position and path of each problem).

==========  ==============================================================================
exit code   meaning
==========  ==============================================================================
0           done
1           a check failed (``hedgesim validate``) or a worker process died
2           bad input: a file, an option, an output directory that must not be touched
3           a run failed: a numerical failure inside the model, named by step and pair
4           the environment: disk full, permissions, a directory that vanished
130         interrupted (Ctrl-C)
==========  ==============================================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_SIMULATION = 3
EXIT_ENVIRONMENT = 4
EXIT_INTERRUPTED = 130

_PLAIN = re.compile(r"[\w+\-]+")


def _part(p: PathPart) -> str:
    """A path component; odd keys (spaces, control characters) are quoted and escaped so the
    path stays one unambiguous token on one line."""
    text = str(p)
    if _PLAIN.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=True).replace(" ", "\\u0020")


def dotted(path: Sequence[PathPart]) -> str:
    """``("states", "IRN", "power")`` -> ``states.IRN.power``; the root is ``<root>``."""
    return ".".join(_part(p) for p in path) if path else "<root>"


def short(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, cut to ``limit`` characters (a damaged file's reader
    can raise a page of text)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    source: str
    path: tuple[PathPart, ...]
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    plain: bool = False  # a file or directory as a whole: ``path: message``

    def __str__(self) -> str:
        """``file:line:col: path: message`` on one line (command-line sources have no position);
        a problem with a whole file (a damaged table, a directory) is ``path: message``."""
        if self.plain:
            return f"{self.source}: {' '.join(self.message.split())}"
        where = self.source
        if not self.source.startswith(("--", "argument ")):
            where += f":{self.line or 1}:{self.column or 1}"
        message = " ".join(self.message.split())
        return f"{where}: {dotted(self.path)}: {message}"


class HedgesimError(Exception):
    """Any error hedgesim reports to its user; ``exit_code`` is the command's exit status."""

    exit_code: int = EXIT_FAILED

    def lines(self) -> list[str]:
        """What the command prints, one ``error: ...`` line each."""
        return [str(self)]


class InputError(HedgesimError):
    """Invalid user input: a scenario, a sweep spec, an override, an option, an output directory
    that holds something hedgesim must not replace. Exit status 2."""

    exit_code = EXIT_INPUT

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    @classmethod
    def single(
        cls, source: str, message: str, path: Sequence[PathPart] = (), line: int | None = None
    ) -> InputError:
        return cls([Problem(source, tuple(path), message, line, 1 if line else None)])

    @classmethod
    def plain(cls, source: str, message: str) -> InputError:
        """A problem with a whole file or directory, printed as ``path: message``."""
        return cls([Problem(source, (), message, plain=True)])


class SimulationError(HedgesimError):
    """A step produced a value that is not a finite number (the message names the step and the
    pair). Exit status 3."""

    exit_code = EXIT_SIMULATION

    def __init__(self, message: str, replication: int | None = None) -> None:
        super().__init__(message)
        # position of the failed run among the seeds of a batch (None: a single run); the code
        # that runs batches rebases it onto all the seeds it was given
        self.replication = replication


class RunFailed(HedgesimError):
    """A run raised inside a worker; the message names the run (its cell or condition and its
    replication) and the cause. Finished work stays on disk. Exit status 3."""

    exit_code = EXIT_SIMULATION


class WorkerDied(HedgesimError):
    """A worker process died (killed, out of memory) before it returned. Exit status 1."""

    exit_code = EXIT_FAILED
