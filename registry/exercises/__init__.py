"""Self-checking exercises: each names a task, a starter file, and a checker.

    resblocks check swap_block my_answer.yaml

The handouts (instructions, starter, reference solution) live in
docs/exercises/<name>/; the checkers live here, one module per exercise,
so they ship with the package. A checker returns a PASS message or raises
`Fail(problem, hint)`; `check()` turns either into the verdict to print.
"""

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from registry.errors import MissingFileError, ResblocksError
from registry.exercises import (
    cardinality,
    feature_pyramid,
    inception_scale,
    own_block,
    plain_vs_residual,
    preactivation,
    resnet34,
    shortcuts,
    stochastic_depth,
    swap_block,
)
from registry.exercises.counting import weighted_layers
from registry.exercises.worksheet import Fail

# In the order a course meets them.
EXERCISES: dict[str, ModuleType] = {
    "resnet34": resnet34,
    "swap_block": swap_block,
    "plain_vs_residual": plain_vs_residual,
    "shortcuts": shortcuts,
    "preactivation": preactivation,
    "feature_pyramid": feature_pyramid,
    "inception_scale": inception_scale,
    "stochastic_depth": stochastic_depth,
    "cardinality": cardinality,
    "own_block": own_block,
}


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: passed, and the lines to print."""

    passed: bool
    message: str
    hint: str = ""

    def __str__(self) -> str:
        if self.passed:
            return f"PASS: {self.message}"
        return f"FAIL: {self.message}\nHint: {self.hint}"


def check(exercise: str, path: "str | Path") -> Verdict:
    """Runs the checker of `exercise` on the student's file.

    Raises:
        ResblocksError: `exercise` is not one of EXERCISES.
        MissingFileError: `path` does not exist (a FileNotFoundError too).
    """
    if exercise not in EXERCISES:
        raise ResblocksError(f"Unknown exercise {exercise!r}. Exercises: {', '.join(EXERCISES)}")
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"No such file: {path}. Copy the starter first, e.g. "
            f"`cp docs/exercises/{exercise}/{EXERCISES[exercise].STARTER} "
            f"mine{path.suffix or Path(EXERCISES[exercise].STARTER).suffix}`."
        )
    try:
        return Verdict(True, f"{exercise}: {EXERCISES[exercise].check(path)}")
    except Fail as failure:
        return Verdict(False, f"{exercise}: {failure.problem}", failure.hint)


__all__ = ["EXERCISES", "Fail", "Verdict", "check", "weighted_layers"]
