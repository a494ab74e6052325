"""Self-checking exercises: each names a task, a starter file, and a checker.

    resblocks check swap_block my_answer.yaml

The handouts (instructions, starter, reference solution) live in
docs/exercises/<name>/; the checkers live here, one module per exercise,
so they ship with the package. A checker returns a PASS message or raises
`Fail(problem, hint)`; `check()` turns either into the verdict to print.
"""

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

from registry.errors import MissingFileError, ResblocksError

# In the order a course meets them: each is the module registry.exercises.<name>.
NAMES = (
    "resnet34",
    "swap_block",
    "plain_vs_residual",
    "shortcuts",
    "gradient_flow",
    "preactivation",
    "feature_pyramid",
    "inception_scale",
    "stochastic_depth",
    "cardinality",
    "where_it_looks",
    "own_block",
)


def about(name: str) -> tuple[str, str]:
    """An exercise's TITLE and STARTER, read from its module's text without importing it.

    The checkers import Keras; `resblocks exercises` and `resblocks check
    --help` only need these two constants, so they answer at once.
    """
    tree = ast.parse(Path(__file__).with_name(f"{name}.py").read_text(encoding="utf-8"))
    found = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in ("TITLE", "STARTER")
    }
    return found["TITLE"], found["STARTER"]


def __getattr__(name: str):
    """EXERCISES (name -> checker module), Fail and weighted_layers, imported on first use."""
    if name == "EXERCISES":
        return {n: importlib.import_module(f"registry.exercises.{n}") for n in NAMES}
    if name == "Fail":
        return importlib.import_module("registry.exercises.worksheet").Fail
    if name == "weighted_layers":
        return importlib.import_module("registry.exercises.counting").weighted_layers
    raise AttributeError(f"module 'registry.exercises' has no attribute {name!r}")


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
        ResblocksError: `exercise` is not one of NAMES.
        MissingFileError: `path` does not exist (a FileNotFoundError too).
    """
    if exercise not in NAMES:
        raise ResblocksError(f"Unknown exercise {exercise!r}. Exercises: {', '.join(NAMES)}")
    path = Path(path)
    starter = about(exercise)[1]
    if not path.is_file():
        raise MissingFileError(
            f"No such file: {path}. Copy the starter first, e.g. "
            f"`cp docs/exercises/{exercise}/{starter} "
            f"mine{path.suffix or Path(starter).suffix}`."
        )
    from registry.exercises.worksheet import Fail

    checker = importlib.import_module(f"registry.exercises.{exercise}")
    try:
        return Verdict(True, f"{exercise}: {checker.check(path)}")
    except Fail as failure:
        return Verdict(False, f"{exercise}: {failure.problem}", failure.hint)


__all__ = ["EXERCISES", "NAMES", "Fail", "Verdict", "about", "check", "weighted_layers"]
