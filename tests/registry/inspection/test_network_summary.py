"""model.summary() lists the stem, every block and the head, with shapes and parameters."""

from helpers import built


def summary_lines(model) -> list[str]:
    lines = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    return "\n".join(lines).splitlines()


def test_summary_lists_every_block_with_shape_and_params():
    model = built("resnet20_cifar")
    lines = summary_lines(model)
    for layer in model.layers[1:]:
        row = next((line for line in lines if f" {layer.name} (" in line), None)
        assert row is not None, f"{layer.name} is not in the summary"
        assert type(layer).__name__ in row
        assert str(tuple(layer.output.shape)).replace(" ", "") in row.replace(" ", "")
        assert f"{layer.count_params():,}" in row
    assert sum(" conv" in line and "_block" in line for line in lines) == 9


def test_feature_extractor_summary_keeps_the_blocks():
    model = built("resnet20_cifar", include_top=False, features=["c2", "c4"])
    lines = summary_lines(model)
    assert any(" conv4_block3 (ResBlock)" in line for line in lines)
    assert not any(" head (" in line for line in lines)
