"""Pydantic's validation errors, reworded as located recipe problems with a fix.

Pydantic says "Input should be less than or equal to 1000"; a recipe author
needs the key (`stages[1].repeats`), the rule, what was received and what to
write instead, in one line.
"""

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from registry.errors import Problem, short_repr
from registry.names import did_you_mean, natural_sorted, unknown_name_message

# What to write instead, for the keys whose rule is not obvious from its bound.
HINTS = {
    "name": "Use letters, digits and _, starting with a letter or _, at most 64 characters "
    "(a stage name may also hold '.', '-' and '{index}'), e.g. conv2.",
    "tap": "Use an identifier such as c3, or null for none.",
    "block": "Use a registered block name (`resblocks list`).",
    "input_shape": "Give [height, width, channels]: height and width 1 to 8192 (or null for any "
    "size), channels 1 to 64, e.g. [224, 224, 3].",
    "stages": "Give a list of stages, each {block: NAME, ...}: at least 1 and at most 200.",
    "repeats": "A stage holds 1 to 1000 blocks (ResNet-152's longest stage has 36).",
    "filters": "Use 1 to 8192 channels (ResNet-50's widest convolution has 2048).",
    "kernel_size": "Give one number (3) or two ([3, 3]), each 1 to 31.",
    "strides": "Use 1 to 8; 2 halves the feature map.",
    "expansion": "Use 1 to 16; the bottleneck of the paper expands by 4.",
    "num_classes": "Use 1 to 100000 classes.",
    "hidden_units": "Give a list of at most 16 widths, each 1 to 65536, e.g. [1024].",
    "dropout": "Use a rate from 0 (none) up to, not including, 1.",
    "scale": "Use a factor above 0 and at most 10; Inception-ResNet uses 0.1 to 0.3.",
    "bn_epsilon": "Use a small positive number such as 1e-5 or 1e-3.",
    "bn_momentum": "Use a number from 0 up to, not including, 1, such as 0.9 or 0.99.",
    "defaults": "Give a mapping of block arguments, e.g. {use_bias: true}.",
    "stem": "Give the stem as {block: NAME, ...}, e.g. {block: res_net_stem, filters: 64}.",
    "head": "Give {block: classifier, num_classes: N}, or null for a network without head.",
    "plugins": "Give a list of module names or .py paths.",
    "train": "Give a mapping of training settings.",
    "output_stride": "Use 8, 16 or 32 (no dilation), or null: the input size over the last "
    "map's size, as in DeepLab.",
    "drop_path_rate": "Use a rate from 0 (no stochastic depth) up to, not including, 1; timm "
    "trains ResNet-50 with 0.05 to 0.2.",
    "dilation": "Use 1 to 64; output_stride sets it for you.",
    "se_ratio": "Use a fraction above 0 and at most 1 of the block's width, such as 0.0625 "
    "(Hu et al.'s reduction r = 16), or null for no squeeze-and-excitation.",
    "dilation_rate": "Use 1 to 64; 1 is an ordinary convolution.",
}

_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list ([a, b])",
    "tuple_type": "a list ([a, b])",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "none_required": "null",
}

_EXAMPLES = {
    "name": "name: my_net",
    "input_shape": "input_shape: [224, 224, 3]",
    "stem": "stem: {block: res_net_stem}",
    "stages": "stages: [{block: res_block, filters: 64}]",
    "block": "block: res_block",
}


def problems_of(
    error: "ValidationError | list[dict]",
    prefix: str,
    model: type[BaseModel],
    block: str | None = None,
    place_keys: "list[str] | None" = None,
) -> list[Problem]:
    """Turns pydantic's errors (or some of `error.errors()`) into located, Keras-worded problems.

    `place_keys`: the keys the recipe's place takes beside the block's
    arguments (a stage's `repeats`, `name`, `tap`, ...), so an unknown key
    is matched against both.
    """
    items = error.errors() if isinstance(error, ValidationError) else error
    problems = []
    for item in items:
        loc, holder = _walk(model, item["loc"])
        item = {**item, "loc": loc}
        problems.append(
            Problem(
                location_of(prefix, loc, item["type"]),
                message_of(item, holder, block, place_keys),
            )
        )
    return problems


def _walk(model: type[BaseModel], loc: tuple) -> tuple[tuple, type[BaseModel]]:
    """Follows `loc` through nested models.

    Returns the location without the tags pydantic adds for tagged unions
    (`train.optimizer.sgd.momentum` -> `train.optimizer.momentum`) and the
    model whose key the last part is, so an unknown key lists its siblings.
    """
    clean: list = []
    current: type[BaseModel] | None = model
    holder: type[BaseModel] = model
    i = 0
    while i < len(loc):
        part = loc[i]
        clean.append(part)
        i += 1
        if current is None or isinstance(part, int):
            continue
        holder = current
        field = current.model_fields.get(part)
        candidates = _models_in(field.annotation) if field is not None else []
        current = candidates[0] if len(candidates) == 1 else None
        if len(candidates) > 1 and i < len(loc):
            tagged = [m for m in candidates if _tag_of(m, loc[i])]
            if tagged:
                current = tagged[0]
                i += 1  # the tag is not a key of the file
    return tuple(clean), holder


def _tag_of(model: type[BaseModel], tag) -> bool:
    field = model.model_fields.get("name")
    return field is not None and tag in typing.get_args(field.annotation)


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        for m in _models_in(arg):
            if m not in found:
                found.append(m)
    return found


def message_of(
    item: dict[str, Any],
    model: type[BaseModel],
    block: str | None = None,
    place_keys: "list[str] | None" = None,
) -> str:
    """One pydantic error as `rule. Received: value. Fix.`"""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    value = item.get("input")
    names = [part for part in item["loc"] if isinstance(part, str) and not part.startswith("[")]
    key = names[-1] if names else ""
    hint = HINTS.get(key, "")
    received = f"Received: {short_repr(value)}"

    if kind == "invalid_key" or item["loc"][-1:] == ("[key]",):
        container = [part for part in item["loc"][:-1] if isinstance(part, str)]
        where = f" of {container[-1]}" if container else ""
        return (
            f"the key {short_repr(value)}{where} must be a name (letters, digits and _, not "
            "starting with a digit). "
            f"Received: {short_repr(value)} ({_kind_of(value)}). Rename it; note that YAML reads "
            "unquoted yes/no/on/off as true/false and digits as numbers."
        )
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        if block and place_keys:
            return (
                f"unknown argument {key!r} for block '{block}'."
                f"{did_you_mean(key, [*place_keys, *known])} Its arguments: "
                f"{', '.join(natural_sorted(known))}; and the keys beside them: "
                f"{', '.join(place_keys)}. Remove it or fix its spelling."
            )
        if block:
            message = unknown_name_message(
                "argument", key, known, f" for block '{block}'", "Its arguments"
            )
        else:
            message = unknown_name_message("key", key, known, listed="Valid keys")
        return f"{message}. Remove it or fix its spelling."
    if kind == "missing":
        if block:
            return (
                f"required argument '{key}' of block '{block}' is missing. Add `{key}: ...` to it."
            )
        example = _EXAMPLES.get(key)
        return f"required key '{key}' is missing. Add it{f', e.g. `{example}`' if example else ''}."
    if kind in _EXPECTED:
        text = f"expected {_EXPECTED[kind]}. {received} ({_kind_of(value)})."
        if isinstance(value, str) and _parses_as(value, kind):
            text += f" Write it without quotes: {value.strip()}."
        elif kind == "list_type" and isinstance(value, dict):
            text += (
                " (Patching a base recipe's list item by item, {0: {...}}, "
                "needs numeric indices and a `base:`.)"
            )
        return _join(text, hint)
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        guess = did_you_mean(value, options, n=1) if isinstance(value, str) else ""
        return (
            f"must be one of {expected}. {received}.{guess}"
            if guess
            else _join(f"must be one of {expected}. {received}.", hint)
        )
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        rule = {
            "greater_than": f"must be greater than {ctx.get('gt')}",
            "greater_than_equal": f"must be at least {ctx.get('ge')}",
            "less_than": f"must be less than {ctx.get('lt')}",
            "less_than_equal": f"must be at most {ctx.get('le')}",
        }[kind]
        return _join(f"{rule}. {received}.", hint)
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        words = "at least" if kind == "too_short" else "at most"
        count = ctx.get("actual_length")
        return _join(
            f"must have {words} {bound} item{'s' if bound != 1 else ''}, not {count}. {received}.",
            hint,
        )
    if kind in ("string_too_long", "string_too_short"):
        bound = ctx.get("max_length", ctx.get("min_length"))
        words = "at most" if kind == "string_too_long" else "at least"
        return _join(f"must have {words} {bound} characters. {received}.", hint)
    if kind == "string_pattern_mismatch":
        return _join(f"has characters that are not allowed here. {received}.", hint)
    if kind == "value_error":
        message = str(ctx.get("error", item["msg"])).removeprefix("Value error, ").rstrip(".")
        text = f"{message}." if "Received" in message else f"{message}. {received}."
        return _join(text, hint)
    return _join(f"{item['msg']}. {received}.", hint)


def location_of(prefix: str, loc: tuple, kind: str = "") -> str:
    """('stages', 2, 'repeats') -> 'stages[2].repeats'.

    A mapping's key stays a key: 'defaults.1'.
    """
    text = prefix
    for i, part in enumerate(loc):
        is_key = loc[i + 1 : i + 2] == ("[key]",) or (kind == "invalid_key" and i == len(loc) - 1)
        if part == "[key]":
            continue
        if isinstance(part, int) and not is_key:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _join(text: str, hint: str) -> str:
    return f"{text} {hint}" if hint else text


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _parses_as(text: str, kind: str) -> bool:
    text = text.strip()
    if kind.startswith("int"):
        return text.lstrip("+-").isdigit()
    if kind.startswith("float"):
        try:
            float(text)
        except ValueError:
            return False
        return True
    if kind.startswith("bool"):
        return text.lower() in ("true", "false")
    return False
