"""Looking inside a network: costs per stage, the stage table, diagrams, the block reference.

| module | holds |
| --- | --- |
| `costs` | `profile()`: parameters and multiply-adds per stage, counted from the built layers |
| `stage_table` | the table `resblocks show` prints |
| `graph` | the block-level graph of a built network, and its Mermaid text |
| `drawing` | that graph painted as SVG or PNG |
| `diagram` | pictures written to files, the format chosen by the suffix |
| `reference` | the Markdown reference of every registered block (docs/reference/blocks.md) |
"""

from registry.inspection.costs import Cost, Profile, format_profile, layer_cost, profile

__all__ = ["Cost", "Profile", "format_profile", "layer_cost", "profile"]
