"""Writes `signatures.py`: what recipe validation needs of the built-in blocks, without Keras.

`python -m registry.blocks.generate` (run by `make docs`) reads the table of
`builtin.py`, each class's `__init__` signature, the allowed-value
constants of `resblocks` and the activation and initializer names Keras
accepts, and writes them as plain data. `validate`, `list` and `schema`
read that file, so they answer without loading TensorFlow;
tests/registry/blocks/test_signature_table.py keeps it equal to the code.
"""

import inspect
import pprint
import sys
import typing
from pathlib import Path

from registry.names import snake_case

TARGET = Path(__file__).resolve().parent / "signatures.py"

HEADER = '''"""The built-in blocks' signatures and allowed values, as data: generated, do not edit.

Written by `python -m registry.blocks.generate` from builtin.py, the
classes' `__init__` signatures, resblocks' constants and Keras' activation
and initializer names (Keras {keras_version}), so the block table and recipe
validation work without importing Keras. A test keeps it equal to the code.
"""

import collections.abc
import typing

'''


def annotation_text(annotation) -> str:
    """`int`, `str | None`, `Sequence[int]`: the annotation as `signatures.TYPES` evaluates it."""
    if annotation is inspect.Parameter.empty:
        return "Any"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    text = repr(annotation)
    for prefix in ("collections.abc.", "typing."):
        text = text.replace(prefix, "")
    return text


def block_rows() -> list[tuple]:
    """(name, kind, module, class name, ((argument, annotation, default or REQUIRED), ...))."""
    from registry.blocks.builtin import BUILTIN_BLOCKS
    from resblocks.arguments import argument_parameters

    rows = []
    for cls, kind in BUILTIN_BLOCKS:
        name = snake_case(cls.__name__)
        parameters = []
        # The class's own arguments, then the keyword-only settings of its bases.
        for parameter in argument_parameters(cls):
            default = "REQUIRED" if parameter.default is parameter.empty else parameter.default
            parameters.append((parameter.name, annotation_text(parameter.annotation), default))
        rows.append((name, kind, cls.__module__, cls.__qualname__, tuple(parameters)))
    return rows


def old_name_rows() -> list[tuple]:
    """(old name, new name, the arguments it stood for) of the names of earlier releases."""
    from registry.blocks.builtin import OLD_NAMES

    return [
        (old, snake_case(cls.__name__), {k: _plain(v) for k, v in preset.items()})
        for old, (cls, preset) in OLD_NAMES.items()
    ]


def constants() -> dict[str, tuple]:
    """The allowed values recipes are checked against, as resblocks exports them."""
    from resblocks.anti_alias import ANTI_ALIASES
    from resblocks.channel_attention import ATTENTIONS
    from resblocks.conv_bn import PADDINGS
    from resblocks.heads import POOLINGS
    from resblocks.normalization import NORMALIZATIONS
    from resblocks.preact import STRIDE_SHORTCUTS
    from resblocks.preprocessing import MODES
    from resblocks.residual import ATTENTION_AT, STRIDE_AT
    from resblocks.shortcut import SHORTCUTS
    from resblocks.stems import POOL_PADDINGS

    return {
        "PADDINGS": tuple(PADDINGS),
        "POOLINGS": tuple(POOLINGS),
        "STRIDE_SHORTCUTS": tuple(STRIDE_SHORTCUTS),
        "MODES": tuple(MODES),
        "STRIDE_AT": tuple(STRIDE_AT),
        "SHORTCUTS": tuple(SHORTCUTS),
        "ATTENTIONS": tuple(ATTENTIONS),
        "ATTENTION_AT": tuple(ATTENTION_AT),
        "ANTI_ALIASES": tuple(ANTI_ALIASES),
        "POOL_PADDINGS": tuple(POOL_PADDINGS),
        "NORMALIZATIONS": tuple(NORMALIZATIONS),
    }


def source() -> str:
    """The text of signatures.py for the code as it is now."""
    import keras

    from registry.keras_compat import keras_names

    lines = [HEADER.format(keras_version=keras.__version__)]
    lines.append('REQUIRED = "REQUIRED"  # an argument without a default\n\n')
    lines.append("BLOCKS = " + pprint.pformat(block_rows(), width=99, sort_dicts=False) + "\n\n")
    lines.append("# Names of earlier releases: (old name, new name, the arguments it stood for).\n")
    lines.append(
        "OLD_NAMES = " + pprint.pformat(old_name_rows(), width=99, sort_dicts=False) + "\n\n"
    )
    for name, values in constants().items():
        lines.append(f"{name} = {values!r}\n")
    for what in ("activations", "initializers"):
        known, accepted = keras_names(what)
        lines.append(
            f"\n# The names suggested for a mistyped {what[:-1]}, and every name Keras accepts.\n"
        )
        lines.append(f"{what.upper()}_KNOWN = " + pprint.pformat(tuple(known), width=99) + "\n")
        lines.append(
            f"{what.upper()}_ACCEPTED = " + pprint.pformat(tuple(accepted), width=99) + "\n"
        )
    lines.append("\n# What the annotations above name.\n")
    lines.append("TYPES = {\n")
    for name in ("Any", "Sequence", "bool", "float", "int", "str"):
        lines.append(f"    {name!r}: {_type_source(name)},\n")
    lines.append("}\n")
    return "".join(lines)


def _plain(value):
    """Widths as lists, as a recipe writes them; other values as they are."""
    return list(value) if isinstance(value, tuple | list) else value


def _type_source(name: str) -> str:
    return {"Any": "typing.Any", "Sequence": "collections.abc.Sequence"}.get(name, name)


def main() -> int:
    TARGET.write_text(source(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
