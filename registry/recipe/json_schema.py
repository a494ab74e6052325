"""The JSON Schema of recipe files, with every registered block's arguments.

Editors (VS Code's YAML extension, for one) use it for completion and
inline errors: `# yaml-language-server: $schema=recipe.schema.json`.
"""

from typing import Any

from registry.blocks import get_block, list_blocks
from registry.recipe.spec import HeadSpec, RecipeSpec, StageSpec, StemSpec


def recipe_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for recipe files."""
    schema = RecipeSpec.model_json_schema()
    defs = schema.setdefault("$defs", {})
    for section, spec, kinds in (
        ("StemSpec", StemSpec, ("stem", "block")),
        ("StageSpec", StageSpec, ("block", "stem")),
        ("HeadSpec", HeadSpec, ("head",)),
    ):
        structural = spec.model_json_schema()["properties"]
        variants = []
        for name in [n for kind in kinds for n in list_blocks(kind=kind)]:
            args = get_block(name).args.model_json_schema()
            properties = {**structural, **args.get("properties", {}), "block": {"const": name}}
            if "per_block" in structural:  # each block's own arguments: this block's, all optional
                properties["per_block"] = per_block_schema(structural["per_block"], args)
            variants.append(
                {
                    "title": name,
                    "type": "object",
                    "properties": properties,
                    "required": ["block", *args.get("required", [])],
                    "additionalProperties": False,
                }
            )
            defs.update(args.get("$defs", {}))
        defs[section] = {"oneOf": variants, "description": spec.__doc__ or ""}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "resblocks recipe"
    return schema


def per_block_schema(structural: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """A stage's `per_block`: a list of mappings of the block's arguments, none required.

    `strides` is the stage's (validation refuses it there too).
    """
    own = {k: v for k, v in args.get("properties", {}).items() if k != "strides"}
    item = {"type": "object", "properties": own, "additionalProperties": False}
    return {
        "anyOf": [{"type": "array", "items": item}, {"type": "null"}],
        "description": structural.get("description", ""),
    }
