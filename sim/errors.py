"""One error type for every bad input, printed as ``file:line:col: field.path: message``.

Why one type: the CLI catches exactly this, prints it and exits 2, so a user never sees a traceback
for a mistake in their own file, and the tests can assert on the position and path of each problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int


def dotted(path: Sequence[PathPart]) -> str:
    """``("states", "IRN", "power")`` -> ``states.IRN.power``; the root is ``<root>``."""
    return ".".join(str(p) for p in path) if path else "<root>"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    source: str
    path: tuple[PathPart, ...]
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {dotted(self.path)}: {self.message}"


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
