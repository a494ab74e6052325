"""Argument checks shared by the layers, worded as Keras words its own.

Each set of allowed values is one exported constant next to the layer that
uses it (`PADDINGS`, `SHORTCUTS`, `STRIDE_AT`, `POOLINGS`, `MODES`); the
registry's argument models use the same constants, so a recipe and a layer
can never disagree about what is allowed.
"""

from collections.abc import Sequence


class ArgumentError(ValueError):
    """A constructor argument the layer cannot take, named so that a recipe error can point at it.

    The message reads `Invalid value received for argument `name`: ...`, as
    Keras words its own; `argument` is the name.
    """

    def __init__(self, argument: str, detail: str):
        super().__init__(f"Invalid value received for argument `{argument}`: {detail}")
        self.argument = argument


def check_one_of(argument: str, value, allowed: Sequence) -> None:
    """Raises an ArgumentError unless `value` is allowed.

    The message reads `Invalid value received for argument ...: expected ... Received: ...`.
    """
    if value not in allowed:
        raise ArgumentError(
            argument, f"expected {choices_text(allowed)}. Received: {argument}={value!r}"
        )


def check_positive_int(argument: str, value, meaning: str) -> None:
    """Raises an ArgumentError unless `value` is an int >= 1 (a bool is not one).

    `meaning` says what the count is, with an example: "the splits per
    cardinal group, 2 in ResNeSt-50".
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ArgumentError(
            argument, f"it is {meaning}: an int >= 1. Received: {argument}={value!r}"
        )


def choices_text(allowed: Sequence) -> str:
    """`"same" or "valid"`, `None, "avg" or "max"`, or `one of a, b, c, d` for longer lists."""
    values = [v for v in allowed if v is not None]
    if len(values) > 2:
        return "one of " + ", ".join(str(v) for v in allowed)
    quoted = [f'"{v}"' for v in values]
    text = " or ".join(quoted)
    return f"None, {text}" if None in allowed else text
