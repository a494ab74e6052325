"""The argument model of a block, derived from its constructor.

A block's `__init__` signature is the one source of its argument names,
types and defaults; RULES adds the bounds every argument of that name must
respect, whichever block takes it. So a recipe is checked against exactly
what the class accepts, and a user's block gets the same checks for free.
The built-in blocks' signatures, the allowed values and Keras' activation
and initializer names are read from `signatures.py` (generated from the
code), so validating a recipe does not load Keras; a name that table does
not hold is checked by Keras itself, as before.
"""

import inspect
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from registry.blocks import signatures
from registry.blocks.signatures import (
    ANTI_ALIASES,
    ATTENTION_AT,
    ATTENTIONS,
    NORMALIZATIONS,
    PADDINGS,
    POOL_PADDINGS,
    POOLINGS,
    SHORTCUTS,
    STRIDE_AT,
    STRIDE_SHORTCUTS,
)
from registry.names import did_you_mean


def _keras_accepts(module: str, name: str) -> bool:
    """Whether `keras.<module>.get(name)` takes the name: the table first, then Keras itself."""
    if name in getattr(signatures, f"{module.upper()}_ACCEPTED"):
        return True
    import keras  # a name the table does not hold: a user's registered object, or a typo

    try:
        getattr(keras, module).get(name)
    except (ValueError, TypeError):
        return False
    return True


def _activation(name: str | None) -> str | None:
    if name is not None and not _keras_accepts("activations", name):
        known = list(signatures.ACTIVATIONS_KNOWN)
        raise ValueError(
            f"unknown activation {name!r}.{did_you_mean(name, known, n=1)} Use a "
            "keras.activations name such as "
            "'relu', 'swish', 'gelu' or 'linear'"
        )
    return name


def _initializer(name: str) -> str:
    if not _keras_accepts("initializers", name):
        known = list(signatures.INITIALIZERS_KNOWN)
        raise ValueError(
            f"unknown initializer {name!r}.{did_you_mean(name, known, n=1)} Use a "
            "keras.initializers name such as "
            "'he_normal' or 'glorot_uniform'"
        )
    return name


def _pair(value: Any) -> Any:
    """kernel_size: 3 means [3, 3]."""
    return [value, value] if isinstance(value, int) and not isinstance(value, bool) else value


Size = Annotated[int, Field(ge=1, le=31)]
Width = Annotated[int, Field(ge=1, le=8192)]

# name -> the type that argument must have, bounds included. Each bound is
# generous for real networks and catches typos (filters: 6400 for 64).
RULES: dict[str, Any] = {
    "filters": Annotated[int, Field(ge=1, le=8192)],
    "kernel_size": Annotated[list[Size], BeforeValidator(_pair), Field(min_length=2, max_length=2)],
    "strides": Annotated[int, Field(ge=1, le=8)],
    "expansion": Annotated[int, Field(ge=1, le=16)],
    "padding": Literal[PADDINGS],
    "shortcut": Literal[SHORTCUTS],
    "stride_at": Literal[STRIDE_AT],
    "stride_shortcut": Literal[STRIDE_SHORTCUTS],
    "pooling": Literal[POOLINGS],
    "num_classes": Annotated[int, Field(ge=1, le=100_000)],
    "hidden_units": Annotated[list[Annotated[int, Field(ge=1, le=65_536)]], Field(max_length=16)],
    "dropout": Annotated[float, Field(ge=0.0, lt=1.0)],
    # The embedding head's bottleneck width (FaceNet: 512); None for none.
    "units": Annotated[int, Field(ge=1, le=65_536)] | None,
    # Inception-ResNet's residual scale (a float), Res2Net's number of groups (an int).
    "scale": Annotated[int | float, Field(gt=0.0, le=10.0)],
    # Reduction-A's widths, named as in Szegedy et al. 2016, Table 1.
    "k": Annotated[int, Field(ge=1, le=8192)],
    "l": Annotated[int, Field(ge=1, le=8192)],
    "m": Annotated[int, Field(ge=1, le=8192)],
    "n": Annotated[int, Field(ge=1, le=8192)],
    # The Inception modules' widths: one number per convolution of a branch, in order.
    "branch_0": Annotated[list[Width], Field(min_length=1, max_length=4)],
    "branch_1": Annotated[list[Width], Field(min_length=1, max_length=4)],
    "branch_2": Annotated[list[Width], Field(min_length=1, max_length=4)],
    "widths": Annotated[list[Width], Field(min_length=1, max_length=16)],
    "final_conv": Width | None,
    "bn_epsilon": Annotated[float, Field(gt=0.0, le=1.0)],
    "bn_momentum": Annotated[float, Field(ge=0.0, lt=1.0)],
    "activation": Annotated[str | None, AfterValidator(_activation)],
    "hidden_activation": Annotated[str, AfterValidator(_activation)],
    "kernel_initializer": Annotated[str, AfterValidator(_initializer)],
    # Dilation and stochastic depth: docs/concepts/regularization_and_dilation.md
    "dilation": Annotated[int, Field(ge=1, le=64)],
    "dilation_rate": Annotated[int, Field(ge=1, le=64)],
    "drop_path_rate": Annotated[float, Field(ge=0.0, lt=1.0)],
    "bn_gamma_initializer": Annotated[str, AfterValidator(_initializer)],
    # ResNeXt, Wide ResNets, SE, ResNet-D: docs/concepts/cardinality_and_width.md
    "groups": Annotated[int, Field(ge=1, le=1024)],
    "base_width": Annotated[int, Field(ge=1, le=4096)],
    "se_ratio": Annotated[float, Field(gt=0.0, le=1.0)] | None,
    # The channel gate (SE, ECA, GC), where it sits: docs/concepts/attention_and_tricks.md
    "attention": Literal[ATTENTIONS],
    "attention_at": Literal[ATTENTION_AT],
    "anti_alias": Literal[ANTI_ALIASES],
    # timm's legacy SENets (SENet-154): docs/concepts/attention_and_tricks.md
    "se_divisor": Annotated[int, Field(ge=1, le=64)],
    # ECA's k where the paper's rule is not wanted (a pruned network's): odd, checked by the block.
    "eca_kernel_size": Annotated[int, Field(ge=1, le=31)] | None,
    # A pruned bottleneck's convolutions, one width each in order (the block checks the count).
    "conv_widths": Annotated[list[Width], Field(min_length=1, max_length=8)] | None,
    "down_kernel_size": Annotated[int, Field(ge=1, le=7)],
    "reduce_first": Annotated[int, Field(ge=1, le=64)],
    "stem_width": Annotated[int, Field(ge=1, le=8192)],
    # Res2Net, ResNeSt, Selective Kernel: docs/concepts/split_blocks.md
    "cardinality": Annotated[int, Field(ge=1, le=1024)],
    "radix": Annotated[int, Field(ge=1, le=64)],
    "paths": Annotated[int, Field(ge=1, le=8)],
    "attn_ratio": Annotated[float, Field(gt=0.0, le=1.0)],
    "attn_divisor": Annotated[int, Field(ge=1, le=256)],
    "first_width": Width | None,  # the tiered deep stem's first convolution
    "pool_padding": Literal[POOL_PADDINGS],
    # Group norm and weight standardization (BiT): docs/concepts/preactivation.md
    "normalization": Literal[NORMALIZATIONS],
    "norm_groups": Annotated[int, Field(ge=1, le=1024)],
    "weight_standardization": Annotated[float, Field(gt=0.0, le=1.0)] | None,
    "class_names": Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]] | None, Field(max_length=100_000)
    ],
}

# Strict: YAML already gives typed values, so "64" for 64 is a mistake.
ARGS_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True)


def args_model(cls: type) -> type[BaseModel]:
    """A pydantic model of `cls.__init__`'s arguments (without **kwargs)."""
    return parameters_model(cls.__name__, class_parameters(cls))


def class_parameters(cls: type) -> list[tuple[str, Any, Any]]:
    """(name, annotation, default or inspect.Parameter.empty) of `cls`'s arguments.

    Those of `cls.__init__` and the keyword-only ones of the bases it passes
    `**kwargs` to (`resblocks.arguments.argument_parameters`), less **kwargs.
    """
    from resblocks.arguments import argument_parameters  # the class is loaded, and Keras with it

    return [
        (p.name, Any if p.annotation is p.empty else p.annotation, p.default)
        for p in argument_parameters(cls)
    ]


def table_parameters(rows) -> list[tuple[str, Any, Any]]:
    """`class_parameters` of a built-in block, from its row of signatures.BLOCKS."""
    return [
        (
            name,
            # The generated text names only TYPES ("str | None", "Sequence[int]").
            eval(annotation, {"__builtins__": {}}, signatures.TYPES),
            inspect.Parameter.empty if default == signatures.REQUIRED else default,
        )
        for name, annotation, default in rows
    ]


def parameters_model(class_name: str, parameters) -> type[BaseModel]:
    """The argument model of a block with these (name, annotation, default) parameters."""
    fields = {}
    for name, annotation, default in parameters:
        rule = RULES.get(name, _plain(annotation))
        fields[name] = (rule, ... if default is inspect.Parameter.empty else default)
    return create_model(f"{class_name}Args", __config__=ARGS_CONFIG, **fields)


def _plain(annotation: Any) -> Any:
    """Lets a YAML list through where the signature says Sequence or tuple."""
    origin = typing.get_origin(annotation)
    if origin in (tuple, Sequence):
        args = typing.get_args(annotation)
        return list[args[0]] if args else list
    return annotation
