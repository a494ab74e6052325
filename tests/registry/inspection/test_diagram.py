"""Block-level pictures: the graph read from the model, and its SVG, PNG and Mermaid forms."""

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from PIL import Image

from registry import build, load_recipe
from registry.cli import main
from registry.inspection.diagram import diagram_format, write_diagram
from registry.inspection.drawing import to_svg
from registry.inspection.graph import block_nodes, shortcut_of, to_mermaid
from resblocks import InceptionResBlock17, ResBlock

DOCS = Path(__file__).resolve().parents[3] / "docs"


def nodes_of(name, expand=False, **overrides):
    recipe = load_recipe(name, **overrides)
    return block_nodes(recipe, build(recipe), expand=expand)


@pytest.fixture(scope="module")
def resnet20():
    recipe = load_recipe("resnet20_cifar")
    return recipe, build(recipe)


@pytest.fixture(scope="module")
def resnet18():
    recipe = load_recipe("resnet18", input_shape=(64, 64, 3))
    return recipe, build(recipe)


def test_resnet18_block_by_block(resnet18):
    nodes = block_nodes(*resnet18)
    assert [n.title for n in nodes] == ["image", "stem"] + [
        f"conv{s}_block{b}" for s in (2, 3, 4, 5) for b in (1, 2)
    ] + ["head"]
    assert [n.shortcut for n in nodes if n.kind == "block"] == ["identity", "identity"] + [
        "projection",
        "identity",
    ] * 3
    assert (
        nodes[4].shape == (8, 8, 128)
        and nodes[4].strides == 2
        and nodes[4].shortcut_text == "1x1 conv /2"
    )
    assert nodes[-1].params == 513_000


def test_runs_of_alike_blocks_collapse(resnet20):
    nodes = block_nodes(*resnet20)
    conv2 = nodes[2]
    assert conv2.names == ("conv2_block1", "conv2_block2", "conv2_block3")
    assert conv2.title == "conv2_block1 … conv2_block3" and conv2.repeats == 3
    assert conv2.params_text == "x3, 4,736 params each"
    # conv3: the zero-padding block, then two alike blocks (two stay two)
    assert [n.title for n in nodes[3:6]] == ["conv3_block1", "conv3_block2", "conv3_block3"]
    assert nodes[3].shortcut == "zero_pad" and nodes[3].shortcut_text == "zero-pad /2"


def test_expand_draws_every_block(resnet20):
    nodes = block_nodes(*resnet20, expand=True)
    assert sum(n.kind == "block" for n in nodes) == 9
    assert all(n.repeats == 1 for n in nodes)


def test_plain_blocks_have_no_shortcut():
    assert [n.shortcut for n in nodes_of("plain20_cifar") if n.kind == "block"] == [None] * 7


def test_shortcut_of_reads_the_built_block():
    scaled = InceptionResBlock17(scale=0.1)
    assert shortcut_of(scaled) == ("scaled", 0.1)
    block = ResBlock(32, strides=2, shortcut="zero_pad")
    block.build((None, 8, 8, 16))
    assert shortcut_of(block) == ("zero_pad", None)
    assert shortcut_of(ResBlock(16, shortcut="none")) == (None, None)


def test_mermaid_draws_boxes_sums_and_styled_shortcuts(resnet18):
    text = to_mermaid(block_nodes(*resnet18), "resnet18")
    assert text.startswith("flowchart TB\n")
    assert 'n4["<b>conv3_block1</b><br/>res_block · 8×8×128<br/>230,912 params"]' in text
    assert 's4(("+"))' in text
    assert 's3 -. "1x1 conv /2" .-> s4' in text  # projection: dashed
    assert 's2 -- "identity" --> s3' in text  # identity: solid
    assert text.count("linkStyle") == 3


def test_svg_is_well_formed_and_dashes_projections(resnet18):
    svg = to_svg(block_nodes(*resnet18), "resnet18")
    root = ElementTree.fromstring(svg)
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "conv3_block1" in texts and "res_block · 8×8×128" in texts
    dashed = [
        p
        for p in root.iter("{http://www.w3.org/2000/svg}path")
        if p.get("stroke-dasharray") == "6 4"
    ]
    assert len(dashed) == 3 + 1  # three projections and the legend's sample


@pytest.mark.parametrize(
    "suffix, kind", [(".svg", "svg"), (".png", "png"), (".md", "mermaid"), (".mmd", "mermaid")]
)
def test_write_diagram_picks_the_format_from_the_suffix(resnet20, tmp_path, suffix, kind):
    path = tmp_path / "nested" / f"resnet20{suffix}"
    assert write_diagram(path, *resnet20) == kind
    if kind == "png":
        with Image.open(path) as image:
            assert image.format == "PNG" and image.height > image.width
    elif suffix == ".md":
        assert "```mermaid\nflowchart TB" in path.read_text()
    else:
        assert "conv4_block1" in path.read_text()


def test_unknown_suffix_is_refused():
    with pytest.raises(
        ValueError,
        match=r"Cannot tell the diagram format of 'net.jpg': use a file ending in \.svg, \.png",
    ):
        diagram_format("net.jpg")


def test_show_diagram_command(tmp_path, capsys):
    path = tmp_path / "plain20.mmd"
    assert main(["show", "plain20_cifar", "--diagram", str(path), "--expand"]) == 0
    assert f"wrote {path} (mermaid)" in capsys.readouterr().out
    assert path.read_text().count('["<b>conv') == 9
    with pytest.raises(SystemExit) as exit_:
        main(["show", "plain20_cifar", "--diagram", "x.gif"])
    assert exit_.value.code == 2
    assert "Cannot tell the diagram format of 'x.gif'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["resnet18", "inception_resnet_v2"])
def test_committed_diagrams_are_up_to_date(name, tmp_path):
    committed = DOCS / "diagrams" / f"{name}.svg"
    fresh = tmp_path / f"{name}.svg"
    recipe = load_recipe(name)
    write_diagram(fresh, recipe, build(recipe))
    assert committed.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        f"{committed} is out of date: run `resblocks show {name} --diagram "
        f"docs/diagrams/{name}.svg` (or `make docs`)."
    )


def test_inception_resnet_v2_diagram_collapses_and_scales():
    svg = (DOCS / "diagrams" / "inception_resnet_v2.svg").read_text(encoding="utf-8")
    for text in (
        "block35_1 … block35_10",
        "block17_1 … block17_20",
        "block8_1 … block8_9",
        "identity + 0.17·F (x10)",
        "mixed_6a",
    ):
        assert text in svg
