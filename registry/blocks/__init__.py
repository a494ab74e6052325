"""The block table: which name means which Keras layer class, and what arguments it takes.

Importing this package registers the built-in blocks (`builtin.py`).
"""

from registry.blocks import builtin  # noqa: F401  (registers the built-in blocks)
from registry.blocks.arguments import RULES, args_model
from registry.blocks.table import (
    KINDS,
    Entry,
    add_block,
    get_block,
    list_blocks,
    register_block,
    trial_blocks,
)

__all__ = [
    "KINDS",
    "RULES",
    "Entry",
    "add_block",
    "args_model",
    "get_block",
    "list_blocks",
    "register_block",
    "trial_blocks",
]
