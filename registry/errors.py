"""The project's errors: bad input that the user can fix, each naming the input and the fix.

`ResblocksError` is their base, a `ValueError`: the command line turns it
into its message and exit code 2, while any other exception is a bug and
keeps its traceback. `RecipeError` and `WeightsError` live here; the data,
run-folder and fine-tuning errors of `registry.training` derive from the
same base.
"""

import reprlib
from dataclasses import dataclass

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 8
_REPR.maxlevel = 3


def short_repr(value) -> str:
    """repr() cut to a readable length, safe on huge or self-referencing values."""
    return _REPR.repr(value)


class ResblocksError(ValueError):
    """Bad input (a recipe, a file, a setting) that the message names, with the fix."""


class MissingFileError(ResblocksError, FileNotFoundError):
    """A file the user named does not exist (also a `FileNotFoundError`)."""


class ArgumentNameError(ResblocksError, TypeError):
    """A function was given a keyword it does not take; the message names the closest ones.

    A TypeError too, as Python's own "unexpected keyword argument" is.
    """


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a recipe: where (`stages[2].repeats`) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class RecipeError(ResblocksError):
    """A recipe failed to load, validate or build.

    Names the file (or "<recipe given in code>"), every problem with its
    location, the value received and the fix; for names, the closest valid
    ones.

    Attributes:
        source: str. The recipe file, or a description of where it came from.
        problems: list of `Problem`.
    """

    def __init__(self, source: str, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.source = source
        self.problems = list(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        if len(self.problems) == 1:
            return f"Invalid recipe {self.source}: {self.problems[0]}"
        lines = [f"Invalid recipe {self.source} ({len(self.problems)} problems):"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


class WeightsError(ResblocksError):
    """A weights file does not fit the model it is loaded into; nothing was loaded.

    The message names the file, the first layers and shapes that differ,
    and the fix.
    """
