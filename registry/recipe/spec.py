"""Pydantic specs of a recipe file: the model, its stem, stages and head.

Structure only: each block's own arguments ride along as extra keys and are
checked against that block's argument model by `validate`.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from registry.blocks.signatures import MODES
from registry.recipe.train_spec import TrainSpec

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
# A stage name may hold "{index}": the 1-based block number within the stage.
LayerName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.{}-]*$", max_length=64)
]
Dimension = Annotated[int, Field(ge=1, le=8192)]

STRICT = ConfigDict(extra="forbid", strict=True)

# Which block of a stage gets the stage's `strides`: the first (He et al.
# 2015, torchvision, keras' V1) or the last (keras.applications' ResNet-V2,
# after TF-slim: the stage works at the larger size and shrinks at its end).
STRIDE_AT_BLOCK = ("first", "last")


class BlockCall(BaseModel):
    """`{block: NAME, ...arguments}`: a registered block and its arguments."""

    model_config = ConfigDict(extra="allow", strict=True)

    block: Identifier = Field(description="A registered block name (`resblocks list`).")

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class StemSpec(BlockCall):
    tap: Identifier | None = Field("c1", description="Feature name of the stem's output.")


class StageSpec(BlockCall):
    repeats: int = Field(
        1, ge=1, le=1000, description="Blocks in the stage; `strides` applies to one of them."
    )
    stride_at_block: Literal[STRIDE_AT_BLOCK] = Field(
        "first", description="Which block of the stage gets its `strides`: first or last."
    )
    name: LayerName | None = Field(None, description='Layer-name prefix (default "stage<N>").')
    tap: Identifier | None = Field(None, description="Feature name of the stage's output, e.g. c3.")
    per_block: Annotated[list[dict[Identifier, Any]], Field(max_length=1000)] | None = Field(
        None,
        description="One mapping per block (as many as `repeats`): arguments of that block, "
        "merged over the stage's own ({} keeps them). A pruned network's widths, block by block.",
    )


class HeadSpec(BlockCall):
    block: Identifier = "classifier"


class ReferenceSpec(BaseModel):
    """A published figure for the network, which `resblocks show` prints next to the counted one."""

    model_config = STRICT

    source: str = Field(
        description='Where the figure is published, e.g. "He et al. 2015, Table 1".'
    )
    macs: float | None = Field(
        None, gt=0, description="Multiply-accumulates per image at the recipe's input size."
    )
    params: int | None = Field(
        None, gt=0, description="All parameters, BN statistics included (Keras' count_params)."
    )
    trainable_params: int | None = Field(
        None, gt=0, description="Trainable parameters (what PyTorch counts)."
    )


class RecipeSpec(BaseModel):
    """A whole recipe file."""

    model_config = STRICT

    name: Identifier
    paper: str | None = None
    description: str | None = None
    input_shape: Annotated[list[Dimension | None], Field(min_length=3, max_length=3)] = Field(
        description="[height, width, channels]; height and width may be null for any size."
    )
    preprocessing: Literal[MODES] = Field(
        "none", description="Input convention of the weights: see resblocks.Preprocess."
    )
    defaults: dict[Identifier, Any] = Field(
        default_factory=dict, description="Arguments given to every block that takes them."
    )
    stem: StemSpec
    stages: Annotated[list[StageSpec], Field(min_length=1, max_length=200)]
    head: HeadSpec | None = None
    output_stride: Literal[8, 16, 32] | None = Field(
        None,
        description="Input size over the last map's size: 16 or 8 replace the strides of the last "
        "stages with dilation (DeepLab; torchvision's replace_stride_with_dilation).",
    )
    drop_path_rate: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Stochastic depth (Huang et al. 2016): the drop rate of the last residual "
        "block, rising linearly from 0 at the first (timm's rule).",
    )
    zero_init_last: bool = Field(
        False,
        description="Zero-initialize the last BN gamma of every residual branch (Goyal et al. "
        "2017; torchvision's zero_init_residual).",
    )
    train: TrainSpec | None = Field(
        None, description="How to train it on a folder of images: `resblocks train`."
    )
    references: list[ReferenceSpec] = Field(
        default_factory=list, description="Published MACs and parameter counts to compare with."
    )
    plugins: Annotated[list[str], Field(max_length=32)] = Field(
        default_factory=list,
        description="Python modules with custom blocks: module names or .py paths relative to the "
        "recipe file. Imported only when the user allows it (allow_plugins=True, --allow-plugins).",
    )

    @field_validator("input_shape")
    @classmethod
    def _channels_known(cls, shape: list[int | None]) -> list[int | None]:
        if shape[2] is None or shape[2] > 64:
            raise ValueError(
                f"the channel count (third number) must be 1 to 64. Received: {shape[2]}"
            )
        return shape
