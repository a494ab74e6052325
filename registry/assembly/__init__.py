"""Assembling a model from a recipe: one layer per block, wired into a `resblocks.Network`.

`model.py` holds `build()` and `model_from_recipe()`; `input_size.py` checks,
before anything is built, that the input survives the network's
downsampling, and finds the smallest input that does.
"""

from registry.assembly.model import build, model_from_recipe

__all__ = ["build", "model_from_recipe"]
