"""The generated and hand-written references stay in step with the code."""

import re
from pathlib import Path

import pytest

from registry import list_blocks, list_models
from registry.blocks.builtin import BUILTIN_BLOCKS
from registry.inspection.reference import (
    EXAMPLES,
    block_mermaid,
    blocks_reference,
    describe,
    example_layer,
)
from registry.names import natural_sorted, snake_case
from registry.recipe.spec import RecipeSpec, StageSpec, StemSpec

DOCS = Path(__file__).resolve().parents[3] / "docs"
# Other tests may register blocks of their own; the committed page documents the built-in ones.
BUILTIN_NAMES = natural_sorted(snake_case(cls.__name__) for cls, _ in BUILTIN_BLOCKS)


def test_block_reference_is_up_to_date():
    committed = (DOCS / "reference" / "blocks.md").read_text(encoding="utf-8")
    assert committed == blocks_reference(BUILTIN_NAMES), (
        "docs/reference/blocks.md is out of date: run `resblocks reference -o "
        "docs/reference/blocks.md` (or `make docs`)."
    )


def test_every_builtin_block_has_an_example():
    assert set(BUILTIN_NAMES) <= set(EXAMPLES)
    assert set(EXAMPLES) <= set(list_blocks())


def test_sections_show_arguments_shapes_and_a_picture():
    text = blocks_reference(["res_block"])
    assert (
        "| `shortcut` | one of `projection`, `zero_pad`, `identity`, `none` | `projection` |"
        in text
    )
    assert (
        "| `filters` | integer in [1, 8192] | required | Output channels of both convolutions. |"
        in text
    )
    assert "gives 28×28×128, 230,912 parameters." in text
    assert '  n2["3x3 conv 128 /2, BN, relu<br/>28×28×128"]' in text
    assert '  n5["1x1 conv 128 /2, BN<br/>28×28×128"]' in text  # the projection


def test_inception_block_picture_has_branches_and_the_scaled_sum():
    layer, shape = example_layer("inception_res_block35")
    chart = block_mermaid(layer, shape)
    assert (
        chart.count("-->") == 3 + 5 + 1 + 2 + 1 + 1
    )  # branch edges, concat inputs, up, F, identity, activation
    assert '(("x + 0.17·F"))' in chart and '|"identity"|' in chart


def test_describe_names_the_layer():
    layer, _ = example_layer("res_net_stem")
    assert describe(layer.conv) == "7x7 conv 64 /2, BN, relu"
    assert describe(layer.pool) == "3x3 max-pool /2"


SPEC_KEYS = sorted(
    {*RecipeSpec.model_fields, *StageSpec.model_fields, *StemSpec.model_fields, "base"}
)


@pytest.mark.parametrize("key", SPEC_KEYS)
def test_recipe_format_documents_every_key(key):
    text = (DOCS / "reference" / "recipes.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{key}` \|", text, re.MULTILINE), (
        f"docs/reference/recipes.md: add a row for the key `{key}`"
    )


def test_model_list_names_every_shipped_recipe():
    text = (DOCS / "reference" / "models.md").read_text(encoding="utf-8")
    missing = [name for name in list_models() if f"`{name}`" not in text]
    assert not missing, f"docs/reference/models.md does not list: {', '.join(missing)}"
