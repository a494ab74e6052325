"""What every exercise checker shares: the verdict, worksheets and recipes in them.

A student's file is a recipe, a YAML worksheet (`recipe:` or `recipes:`
plus `answers:`) or a Python file; a checker reads it with these helpers
and either returns a PASS message or raises `Fail(problem, hint)`.
"""

import copy
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from registry.errors import RecipeError
from registry.recipe import Recipe, load_recipe
from registry.recipe.files import find_recipe, merge, read_recipe
from registry.recipe.strict_yaml import load_yaml
from resblocks.arguments import argument_parameters

# What a starter file holds where the student still has to write something.
BLANKS = (None, "TODO", "todo", "")


class Fail(Exception):
    """The student's file does not (yet) solve the exercise.

    Args:
        problem: str. What is wrong, naming the place in the file.
        hint: str. What to look at or try next, without giving the answer.
    """

    def __init__(self, problem: str, hint: str):
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


def read_yaml_file(path: Path) -> dict[str, Any]:
    """The file as a mapping; a YAML mistake becomes a Fail with its line."""
    try:
        return load_yaml(path)
    except RecipeError as error:
        raise Fail(
            str(error), "Fix the YAML first: indent with spaces, `key: value` pairs, lists in [ ]."
        ) from None


def recipe_from(raw: Any, where: str, relative_to: Path) -> Recipe:
    """A recipe given inline in a worksheet (with `base:` allowed), validated.

    Args:
        raw: the mapping under `recipe:` (or a recipe name or path).
        where: its place in the file, for messages ("recipes.plain20").
        relative_to: the folder a relative `base:` path is read from.
    """
    try:
        if isinstance(raw, str):
            path = (
                find_recipe(raw, relative_to=relative_to)
                if raw.endswith((".yaml", ".yml"))
                else raw
            )
            return load_recipe(str(path))
        if not isinstance(raw, Mapping):
            raise Fail(
                f"{where} must be a recipe: a mapping with name:, stages: ... or base:. Received: "
                f"{raw!r}",
                "Start from the starter file's recipe section.",
            )
        raw = copy.deepcopy(dict(raw))
        base = raw.pop("base", None)
        if base is not None:
            base_path = (
                find_recipe(base, relative_to=relative_to)
                if base.endswith((".yaml", ".yml"))
                else base
            )
            base_raw, _ = read_recipe(str(base_path))
            raw = merge(base_raw, raw)
        return load_recipe(raw)
    except RecipeError as error:
        message = str(error).replace("<recipe given in code>", where)
        raise Fail(
            message,
            "The recipe does not validate; the message names the key to fix. `resblocks list` "
            "shows the block names.",
        ) from None


def answer(answers: Mapping[str, Any], key: str, hint: str, where: str = "answers") -> Any:
    """answers[key], or a Fail when it is missing or still blank.

    `where` names the mapping in messages: "answers", or "answers.strides"
    for a nested one.
    """
    value = answers.get(key) if isinstance(answers, Mapping) else None
    if value is None or (isinstance(value, str) and value.strip() in BLANKS):
        raise Fail(f"{where}.{key} is not filled in yet.", hint)
    return value


def number(answers: Mapping[str, Any], key: str, hint: str, where: str = "answers") -> float:
    """A numeric answer; `25_636_712`, `25636712` and `3.86` all read."""
    value = answer(answers, key, hint, where)
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "").replace("_", ""))
        except ValueError:
            raise Fail(f"{where}.{key} must be a number. Received: {value!r}", hint) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Fail(f"{where}.{key} must be a number. Received: {value!r}", hint)
    return float(value)


def close(received: float, *expected: float, rel: float = 0.01) -> bool:
    """Whether `received` is within `rel` of any of the accepted values."""
    return any(abs(received - e) <= rel * max(abs(e), 1.0) for e in expected)


def check_number(
    answers,
    key: str,
    expected: "float | tuple",
    hint: str,
    rel: float = 0.01,
    where: str = "answers",
) -> None:
    """Fails unless answers[key] is within `rel` of the expected value(s)."""
    accepted = expected if isinstance(expected, tuple) else (expected,)
    value = number(answers, key, hint, where)
    if not close(value, *accepted, rel=rel):
        direction = "high" if value > max(accepted) else "low"
        raise Fail(f"{where}.{key} = {value:,g} is too {direction}.", hint)


def stage_arg(recipe: Recipe, index: int, name: str) -> Any:
    """A stage's argument as its blocks see it: the recipe's, else the class default."""
    call = recipe.stages[index].call
    if name in call.args:
        return call.args[name]
    defaults = {p.name: p.default for p in argument_parameters(call.cls)}
    default = defaults.get(name, inspect.Parameter.empty)
    return None if default is inspect.Parameter.empty else default


def trainable_params(model: keras.Model) -> int:
    """Parameters that training changes (count_params() less BN's statistics)."""
    return sum(int(keras.ops.size(w)) for w in model.trainable_weights)
