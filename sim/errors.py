"""One error type for every bad input, printed as ``file:line:col: field.path: message``.

Why one type: the CLI catches exactly this, prints it and exits 2, so a user never sees a traceback
for a mistake in their own file, and the tests can assert on the position and path of each problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int


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


class InputError(Exception):
    """Raised for any invalid user input (scenario, sweep, overrides, command-line values)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls, source: str, message: str, path: Sequence[PathPart] = (), line: int | None = None
    ) -> InputError:
        return cls([Problem(source, tuple(path), message, line, 1 if line else None)])

    @classmethod
    def plain(cls, source: str, message: str) -> InputError:
        """A problem with a whole file or directory, printed as ``path: message``."""
        return cls([Problem(source, (), message, plain=True)])
