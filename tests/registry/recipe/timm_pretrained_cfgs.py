"""timm's evaluation transform of each timm name's checkpoint, stored for `test_timm_eval.py`.

timm states per checkpoint (`model.pretrained_cfg`) how its accuracy was
measured: the input size, `crop_pct` (the shorter side resized to
`int(size / crop_pct)`, then the centre crop), the interpolation, and the
mean and std the pixels are normalised with. This reads them from timm for
every name in `TIMM_RECIPES`: the default checkpoint's, and, where timm has
one, the `tv_in1k` checkpoint's (torchvision's weights, which the recipes of
torchvision's own networks follow). Run by hand where timm is installed; the
tests read the JSON and never import timm:

    python tests/registry/recipe/timm_pretrained_cfgs.py   # rewrites data/timm_pretrained_cfgs.json
"""

import json
import runpy
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data" / "timm_pretrained_cfgs.json"
KEYS = (
    "input_size",
    "crop_pct",
    "crop_mode",
    "interpolation",
    "mean",
    "std",
    "test_input_size",
    "test_crop_pct",
)


def timm_names() -> list[str]:
    """`TIMM_RECIPES`' names, read from its file (the scratch environment lacks resblocks' deps)."""
    return list(runpy.run_path(str(ROOT / "registry" / "recipe" / "timm_names.py"))["TIMM_RECIPES"])


def as_text(version: str, default: dict, torchvision: dict) -> str:
    """The JSON file, one name a line, so that a new timm's changes read as a diff."""

    def section(cfgs: dict) -> str:
        return ",\n".join(f"  {json.dumps(name)}: {json.dumps(cfg)}" for name, cfg in cfgs.items())

    return (
        f'{{"timm": {json.dumps(version)},\n'
        f'"default": {{\n{section(default)}\n}},\n'
        f'"tv_in1k": {{\n{section(torchvision)}\n}}}}\n'
    )


def main() -> int:
    # timm imports torchvision, whose compiled ops may fail to register on a CPU-only install.
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("stub"))
    import timm
    from timm.models import get_pretrained_cfg

    def cfg(name: str) -> dict:
        found = get_pretrained_cfg(name)
        return {"tag": found.tag, **{key: getattr(found, key) for key in KEYS}}

    default, torchvision = {}, {}
    for name in timm_names():
        default[name] = cfg(name)  # the default checkpoint: what create_model(name) has
        if timm.list_pretrained(f"{name}.tv_in1k"):
            torchvision[name] = cfg(f"{name}.tv_in1k")
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(as_text(timm.__version__, default, torchvision), encoding="utf-8")
    print(f"wrote {DATA}: {len(default)} names, {len(torchvision)} with tv_in1k")
    return 0


if __name__ == "__main__":
    sys.exit(main())
