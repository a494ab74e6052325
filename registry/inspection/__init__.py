"""Looking inside a network: costs per stage, the stage table, diagrams, the block reference.

| module | holds |
| --- | --- |
| `costs` | `profile()`: parameters and multiply-adds per stage, counted from the built layers |
| `stage_table` | the table `resblocks show` prints |
| `graph` | the block-level graph of a built network, and its Mermaid text |
| `drawing` | that graph painted as SVG or PNG |
| `diagram` | pictures written to files, the format chosen by the suffix |
| `reference` | the Markdown reference of every registered block (docs/reference/blocks.md) |
| `class_activation` | `grad_cam()`: where a network looks for a class (Selvaraju et al. 2017) |
| `receptive_field` | `receptive_fields()`: field, stride and padding after each body layer |
| `weight_gradients` | `layer_norms()`: the loss's gradient norm over each body layer's weights |
"""

from registry.inspection.class_activation import grad_cam
from registry.inspection.costs import Cost, Profile, format_profile, layer_cost, profile
from registry.inspection.receptive_field import receptive_fields

__all__ = [
    "Cost",
    "Profile",
    "format_profile",
    "grad_cam",
    "layer_cost",
    "profile",
    "receptive_fields",
]
