"""The recipe keys that choose something about the whole network, as block arguments.

`drop_path_rate`, `zero_init_last` and `output_stride` are written once in a
recipe (or given to `build()`), but each block gets its own value:

- **drop_path_rate** rises linearly with the block's index over all residual
  blocks of the network, from 0 at the first to the full rate at the last.
  That is timm's rule (timm/models/resnet.py, `make_blocks`:
  `block_dpr = drop_path_rate * net_block_idx / (net_num_blocks - 1)`), a
  variant of Huang et al. 2016, eq. (4), whose p_l = 1 - l/L (1 - p_L)
  counts l from 1, so its first block already drops a little.
- **zero_init_last** goes to every block that takes it.
- **output_stride** walks the stages with the network's stride so far, as
  timm's `make_blocks` does: once it has reached output_stride, a stage's
  stride becomes dilation. The first block of such a stage keeps the
  previous dilation and later blocks use the new one, as torchvision's
  `ResNet._make_layer` does (torchvision/models/resnet.py: `previous_dilation
  = self.dilation; if dilate: self.dilation *= stride; stride = 1`, the first
  block built with `previous_dilation`). Its shortcut is then a 1x1 stride 1
  projection, since the block no longer strides.
"""

import inspect

from registry.recipe import Recipe
from registry.recipe.validate import takes

# The reference map size at which a stem's stride is read off its output shape.
_PROBE = 512


def stem_stride(stem, channels: int) -> int:
    """How much the stem shrinks the map (4 for ResNet's 7x7/2 conv and max-pool)."""
    height = stem.compute_output_shape((None, _PROBE, _PROBE, channels))[1]
    return max(1, round(_PROBE / height))


def network_block_args(recipe: Recipe, stem_stride: int) -> list[list[dict]]:
    """Per stage, per block: the arguments the network-level keys give that block."""
    residual = [
        (i, j)
        for i, stage in enumerate(recipe.stages)
        if takes(stage.call.cls, "drop_path_rate")
        for j in range(stage.repeats)
    ]
    last = max(len(residual) - 1, 1)
    index = {block: k for k, block in enumerate(residual)}
    net_stride, dilation = stem_stride, 1
    args: list[list[dict]] = []
    for i, stage in enumerate(recipe.stages):
        cls = stage.call.cls
        blocks = [{} for _ in range(stage.repeats)]
        for j, block in enumerate(blocks):
            if (i, j) in index and recipe.drop_path_rate:
                block["drop_path_rate"] = recipe.drop_path_rate * index[(i, j)] / last
            if recipe.zero_init_last and takes(cls, "zero_init_last"):
                block["zero_init_last"] = True
        if recipe.output_stride is not None:
            strides = stage.call.args.get(
                "strides", inspect.signature(cls.__init__).parameters["strides"].default
            )
            previous = dilation
            if net_stride >= recipe.output_stride:
                dilation *= strides  # this stage's downsampling becomes dilation
                blocks[0]["strides"] = 1
            else:
                net_stride *= strides
            if dilation > 1:
                blocks[0]["dilation"] = previous
                for block in blocks[1:]:
                    block["dilation"] = dilation
        args.append(blocks)
    return args
