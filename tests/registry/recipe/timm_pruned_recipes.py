"""timm's pruned ECA-ResNets as recipes: each block's widths read from timm's own pruning files.

timm builds `ecaresnet50d_pruned` and `ecaresnet101d_pruned` as
ecaresnet50d / ecaresnet101d, then `adapt_model_from_file` (timm's
`models/_prune.py`) gives every convolution and batch norm the shape its
`models/_pruned/NAME.txt` lists (Aflalo et al. 2020, "Knapsack Pruning with
Inner Distillation"): each bottleneck its own conv1 and conv2 widths, each
stage its own output width (conv3 and the shortcut's projection). ECA's
1-d convolution is no `Conv2d`, so it keeps the k of the unpruned width
(5, and 7 in the last stage), which the recipe states (`eca_kernel_size`).

This reads those files and writes, for each name:

- `recipes/NAME.yaml`: `base:` the unpruned recipe, with each stage's
  `eca_kernel_size` and `per_block` widths (`conv_widths`), and timm's
  trainable parameter count of the model in `references:`;
- `tests/registry/pretrained/data/timm_pruned_shapes.json`: the files'
  shapes, keyed as timm's state dict, from which the weights test's
  reference (torch_reference_pruned.py) makes its random checkpoints
  without reading the recipes.

Run by hand where timm is installed; the tests read what it wrote and
never import timm:

    python tests/registry/recipe/timm_pruned_recipes.py
"""

import json
import pkgutil
import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHAPES = ROOT / "tests" / "registry" / "pretrained" / "data" / "timm_pruned_shapes.json"
# timm name -> the recipe it is pruned from, whose stem and planes it keeps.
PRUNED = {"ecaresnet50d_pruned": "ecaresnet50d", "ecaresnet101d_pruned": "ecaresnet101d"}
UNPRUNED_STEM = {"conv1.0": 32, "conv1.3": 32, "conv1.6": 64}  # the deep stem: stem_width 32
BLOCK = re.compile(r"layer(\d+)\.(\d+)\.(.+)\.weight")


def shapes_of(text: str) -> dict[str, list[int]]:
    """`key.weight:[a, b, ...]***...` (the format `adapt_model_from_string` reads) as a dict.

    timm's files also list `layerI_J_conv3_M.weight`, shapes of no module of
    the network, which `adapt_model_from_string` never reads: left out.
    """
    shapes = {}
    for item in text.strip().split("***"):
        key, shape = item.split(":")
        if "_M." not in key:
            shapes[key] = [int(n) for n in shape.strip("[]").split(",")]
    return shapes


def stages_of(shapes: dict[str, list[int]]) -> list[list[dict]]:
    """Per stage, per block: its three widths, ECA's k and its projection's width (or None)."""
    stages: list[list[dict]] = []
    for key, shape in shapes.items():
        found = BLOCK.fullmatch(key)
        if not found:
            continue
        stage, block, module = int(found[1]) - 1, int(found[2]), found[3]
        while len(stages) <= stage:
            stages.append([])
        while len(stages[stage]) <= block:
            stages[stage].append({"conv_widths": [0, 0, 0], "inputs": [0, 0, 0]})
        entry = stages[stage][block]
        if module in ("conv1", "conv2", "conv3"):
            entry["conv_widths"][int(module[-1]) - 1] = shape[0]
            entry["inputs"][int(module[-1]) - 1] = shape[1]
        elif module == "se.conv":
            entry["eca_kernel_size"] = shape[-1]
        elif module == "downsample.1":
            entry["projection"] = shape[0]
    return stages


def check(name: str, shapes: dict[str, list[int]], stages: list[list[dict]]) -> None:
    """What the recipe cannot say is as the unpruned network has it, and the widths chain."""
    for key, width in UNPRUNED_STEM.items():
        if shapes[f"{key}.weight"][0] != width:
            raise SystemExit(f"{name}: the stem's {key} is pruned; the recipe keeps {width}")
    channels = shapes["conv1.6.weight"][0]
    for i, blocks in enumerate(stages):
        for j, block in enumerate(blocks):
            c1, c2, c3 = block["conv_widths"]
            if block["inputs"] != [channels, c1, c2]:
                raise SystemExit(
                    f"{name}: layer{i + 1}.{j}'s inputs {block['inputs']} do not chain"
                )
            if block.get("projection", c3) != c3:
                raise SystemExit(f"{name}: layer{i + 1}.{j}'s projection is not conv3's width")
            channels = c3
    if shapes["fc.weight"][1] != channels:
        raise SystemExit(f"{name}: fc takes {shapes['fc.weight'][1]}, the body gives {channels}")


def recipe_text(name: str, base: str, stages: list[list[dict]], trainable: int) -> str:
    """The recipe: each stage's ECA k once, each block's widths on a line of their own."""
    lines = [
        f"# {name} as timm builds it: {base} with each convolution pruned to the",
        "# width timm's models/_pruned/" + name + ".txt lists (Aflalo et al. 2020), so",
        "# each bottleneck has its own conv1 and conv2 widths and each stage its own",
        "# output width (conv3 and the projection). `filters` stays the planes it was",
        "# pruned from; ECA keeps the k of those (timm's EcaModule is built before",
        f"# pruning). {trainable:,} trainable parameters at 1000 classes.",
        "# Written by tests/registry/recipe/timm_pruned_recipes.py: do not edit.",
        f"name: {name}",
        'paper: "Aflalo et al. 2020, Knapsack Pruning with Inner Distillation (arXiv:2002.08258)"',
        f"base: {base}",
        "stages:",
    ]
    for i, blocks in enumerate(stages):
        kernels = {block["eca_kernel_size"] for block in blocks}
        if len(kernels) != 1:
            raise SystemExit(f"{name}: layer{i + 1}'s blocks have ECA kernels {sorted(kernels)}")
        lines += [f"  {i}:", f"    eca_kernel_size: {kernels.pop()}", "    per_block:"]
        lines += [f"      - {{conv_widths: {block['conv_widths']}}}" for block in blocks]
    lines += [
        "references:",
        f'  - {{source: "timm {name}", trainable_params: {trainable:_}}}',
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    # timm imports torchvision, whose compiled ops may fail to register on a CPU-only install.
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("stub"))
    import timm

    all_shapes = {}
    for name, base in PRUNED.items():
        text = pkgutil.get_data("timm.models", f"_pruned/{name}.txt").decode("utf-8")
        shapes = shapes_of(text)
        stages = stages_of(shapes)
        check(name, shapes, stages)
        model = timm.create_model(name)
        trainable = sum(p.numel() for p in model.parameters())
        timm_shapes = {k: list(v.shape) for k, v in model.state_dict().items() if k in shapes}
        if timm_shapes != shapes:
            raise SystemExit(f"{name}: timm's model does not have the file's shapes")
        path = ROOT / "recipes" / f"{name}.yaml"
        path.write_text(recipe_text(name, base, stages, trainable), encoding="utf-8")
        print(f"wrote {path}: {trainable:,} trainable parameters")
        all_shapes[name] = shapes
    lines = [f"  {json.dumps(n)}: {json.dumps(s)}" for n, s in all_shapes.items()]
    SHAPES.write_text(
        f'{{"timm": {json.dumps(timm.__version__)},\n' + ",\n".join(lines) + "\n}\n",
        encoding="utf-8",
    )
    print(f"wrote {SHAPES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
