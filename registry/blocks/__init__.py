"""The block table: which name means which Keras layer class, and what arguments it takes.

Importing this package enters the built-in blocks of `builtin.py` from
their generated signatures (`signatures.py`), without importing Keras; a
block's class is imported when it is first built.
"""

from registry.blocks.arguments import RULES, args_model
from registry.blocks.table import (
    KINDS,
    Entry,
    add_block,
    add_builtin_blocks,
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

add_builtin_blocks()
