"""timm's pruned ECA-ResNets: each recipe's trainable parameters equal timm's.

Counted from timm 1.0.31's models, sum(p.numel() for p in
create_model(name).parameters()), after timm's `adapt_model_from_file` has
pruned them (recipes/NAME.yaml is written from the same files by
tests/registry/recipe/timm_pruned_recipes.py). ecaresnet101d_pruned has 33
blocks, so it runs in `make test-slow`.
"""

from helpers import trainable_parameters_test

TRAINABLE = {
    "ecaresnet50d_pruned": 19_939_713,
    "ecaresnet101d_pruned": 24_876_040,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TRAINABLE)
