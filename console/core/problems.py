"""Problems found in a document: where (exact text range) and what (message)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    """ERROR blocks Send (Inngest would reject it); WARNING asks for "Send anyway"."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """A message anchored to a character range of the source text.

    `start`/`end` are offsets into the str (code points); `line`/`column` are 1-based
    and describe `start`, the way editors and `FILE:LINE:COL` print them.
    """

    message: str
    severity: Severity = Severity.ERROR
    start: int = 0
    end: int = 0
    line: int = 1
    column: int = 1
    pointer: str = ""
    from_schema: bool = False  # a WARNING that the data breaks the event's schema

    def located(self, path: str) -> str:
        return f"{path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A problem inside one file (schema, template, scenario): `FILE:LINE:COL: message`."""

    file: str
    problem: Problem

    def located(self) -> str:
        return self.problem.located(self.file)

    def __str__(self) -> str:
        return self.located()


class ProblemList:
    """`errors` and `warnings` of whatever holds a `problems` list (a validation report,
    a prepared send)."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def blocking(self) -> bool:
        """True when an ERROR would make Inngest reject the request (Send is blocked)."""
        return any(p.severity is Severity.ERROR for p in self.problems)
