"""A problem a user can act on: where it is (file, line, field) and what is wrong."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the closest candidate, or nothing when none is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class ProblemsFound(Exception):
    """Input the user must fix; carries every problem found, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
