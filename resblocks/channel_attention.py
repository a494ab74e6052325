"""The channel gate of a residual branch, by kind: squeeze-and-excitation, ECA or global context.

Both gate the branch's output channel by channel before the sum with the
shortcut, and both sit where timm's blocks keep them (`block.se`, its
`attn_layer`): SE (Hu et al. 2018) with a bottleneck of `se_ratio` times
the channels, ECA (Wang et al. 2020) with a 1-d convolution across
channels; global context (Cao et al. 2019, GCNet) adds a softmax-pooled,
transformed context vector instead of gating (timm's "gca", at its ratio
1/8). One argument, `attention`, chooses; `se_ratio` alone still means
SE, as recipes wrote it before ECA existed. `eca_kernel_size` fixes ECA's k
where the paper's rule would read it off the channels: a pruned network
(timm's `ecaresnet50d_pruned`) keeps the k of the width it was trained at.
"""

import keras

from resblocks.checks import ArgumentError, check_one_of
from resblocks.efficient_channel_attention import EfficientChannelAttention
from resblocks.global_context import GlobalContext
from resblocks.squeeze_excite import SqueezeExcite

# The channel gates a block can have; None for none.
ATTENTIONS = (None, "se", "eca", "gc")
# SE's width when `attention="se"` says nothing of it: r = 16, the paper's and timm's.
DEFAULT_SE_RATIO = 1 / 16


def check_attention(
    attention: str | None, se_ratio: float | None, eca_kernel_size: int | None = None
) -> None:
    """Refuses an unknown kind, and a gate's setting given to another gate or out of range.

    `se_ratio` sizes SE's bottleneck, which ECA has none of; `eca_kernel_size`
    is ECA's k, odd, meaningless for SE.
    """
    check_one_of("attention", attention, ATTENTIONS)
    if eca_kernel_size is not None:
        if attention_kind(attention, se_ratio) != "eca":
            raise ArgumentError(
                "eca_kernel_size",
                "it is the k of ECA's 1-d convolution, and this block's gate is "
                f"{attention_kind(attention, se_ratio)!r}. Use attention='eca' with it, or "
                f"eca_kernel_size=None. Received: eca_kernel_size={eca_kernel_size!r}",
            )
        if (
            not isinstance(eca_kernel_size, int)
            or isinstance(eca_kernel_size, bool)
            or eca_kernel_size < 1
            or eca_kernel_size % 2 == 0
        ):
            raise ArgumentError(
                "eca_kernel_size",
                "it must be an odd positive int (the convolution is centred on each channel), "
                "or None for the paper's adaptive k of the channels. "
                f"Received: eca_kernel_size={eca_kernel_size!r}",
            )
    if attention == "eca" and se_ratio is not None:
        raise ArgumentError(
            "se_ratio",
            "ECA has no bottleneck to size (its 1-d convolution's width follows from the "
            "channels). Use se_ratio=None with attention='eca', or attention='se'. "
            f"Received: se_ratio={se_ratio!r}",
        )
    if attention == "gc" and se_ratio is not None:
        raise ArgumentError(
            "se_ratio",
            "it sizes SE's bottleneck; the global context block's transform is 1/8 of the "
            "channels, as timm's 'gca'. Use se_ratio=None with attention='gc', or "
            f"attention='se'. Received: se_ratio={se_ratio!r}",
        )


def attention_kind(attention: str | None, se_ratio: float | None) -> str | None:
    """The gate a block has: `attention`, or "se" when only `se_ratio` is given."""
    return "se" if attention is None and se_ratio is not None else attention


def make_channel_attention(
    attention: str | None,
    se_ratio: float | None,
    se_divisor: int = 8,
    eca_kernel_size: int | None = None,
    name: str = "se",
    dtype: keras.DTypePolicy | str | None = None,
):
    """The gate of a residual branch, named `se` as in timm's resnet.py unless `name`, or None.

    `se_divisor` rounds SE's bottleneck width (`SqueezeExcite`'s `divisor`);
    `eca_kernel_size` is ECA's k (None: the paper's, from the channels);
    `dtype` is the block's dtype policy.
    """
    check_attention(attention, se_ratio, eca_kernel_size)
    kind = attention_kind(attention, se_ratio)
    if kind == "se":
        return SqueezeExcite(
            DEFAULT_SE_RATIO if se_ratio is None else se_ratio, se_divisor, name=name, dtype=dtype
        )
    if kind == "eca":
        return EfficientChannelAttention(eca_kernel_size, name=name, dtype=dtype)
    if kind == "gc":
        return GlobalContext(name=name, dtype=dtype)
    return None
