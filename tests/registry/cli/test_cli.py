"""The command line: list, show, validate, schema."""

import json

from registry.cli import main


def test_list(capsys):
    assert main(["list", "resnet5*"]) == 0
    out = capsys.readouterr().out
    assert "resnet50" in out and "resnet18" not in out


def test_show_prints_the_stage_table(capsys):
    assert main(["show", "resnet18"]) == 0
    out = capsys.readouterr().out
    assert "conv5  res_block           2    7x7x512  8,398,848" in out
    assert "total params: 11,699,112  (trainable 11,689,512)" in out


def test_show_prints_the_published_count_beside_the_counted_one(capsys):
    assert main(["show", "resnet50v2"]) == 0
    out = capsys.readouterr().out
    assert "post   post_norm" in out
    assert (
        "published params: 25,613,800 (keras.applications.ResNet50V2); counted 25,613,800 (+0.0%)"
        in out
    )


def recipe_file(tmp_path, name: str, stages: str):
    """A 32x32 recipe file with a CIFAR stem and the given stages (YAML flow text)."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\ninput_shape: [32, 32, 3]\nstem: {{block: cifar_stem}}\nstages: {stages}\n"
    )
    return path


def test_validate_exits_2_with_the_located_error(tmp_path, capsys):
    path = recipe_file(tmp_path, "bad", "[{block: bottlenek}]")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    # The closest first; the Res2Net, ResNeSt and SK bottlenecks come after it.
    located = "bad.yaml: stages[0].block: unknown block 'bottlenek'."
    assert f"{located} Did you mean 'bottle_neck' or " in err
    assert "Traceback" not in err


def test_validate_accepts_shipped_recipes(capsys):
    assert main(["validate", "recipes/resnet50.yaml", "recipes/inception_resnet_v2.yaml"]) == 0


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "resblocks recipe"


def test_validate_passes_a_recipe_with_an_old_block_name_and_says_where(tmp_path, capsys):
    stages = "[{block: res_block, filters: 16}, {block: bottleneck, filters: 4}]"
    path = recipe_file(tmp_path, "old", stages)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "old.yaml: ok (old, 2 stages)" in captured.out
    assert (
        "warning: " + str(path) + ": stages[1].block: 'bottleneck' is the old name of the block "
        "'bottle_neck'. Write `block: bottle_neck`" in captured.err
    )
