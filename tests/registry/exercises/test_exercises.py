"""The exercise checkers: each solution passes, each starter fails with a useful hint."""

import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import built

from registry.cli import main
from registry.exercises import EXERCISES, check, weighted_layers

HANDOUTS = Path(__file__).resolve().parents[3] / "docs" / "exercises"

# What each starter's first failure must talk about, so the hint is useful.
STARTER_FAILS = {
    "resnet34": ("stage 0 (conv2) repeats 2 blocks", "Table 1"),
    "swap_block": ("recipe stage 0 (conv2) still uses 'bottle_neck'", "res_block"),
    "plain_vs_residual": ("recipes.plain20 stage 0 has shortcut 'zero_pad'", "shortcut: none"),
    "shortcuts": ("recipe stage 0 still uses shortcut 'zero_pad'", "projection"),
    "gradient_flow": (
        "answers.larger_first_block is not filled in yet",
        "resblocks gradients plain56_cifar resnet56_cifar",
    ),
    "preactivation": ("recipe's stem is 'cifar_stem'", "pre_act_stem"),
    "feature_pyramid": ("answers.shapes.c1 must be [height, width, channels]", "halve the map"),
    "inception_scale": (
        "recipe stage 1 (block35_{index}) still scales its residual by 0.17",
        "scale: 1.0",
    ),
    "stochastic_depth": ("answers.residual_blocks", "repeats"),
    "cardinality": ("answers.resnet50_gmacs", "resblocks show resnet50_tv"),
    "where_it_looks": ("grad_cam.layer is not filled in yet", "registry.grad_cam"),
    "own_block": (
        "RECIPE does not use your block (se_res_block)",
        "'stages': {0: {'block': 'se_res_block'}",
    ),
}


def handout(name: str, kind: str) -> Path:
    (path,) = (HANDOUTS / name).glob(f"{kind}.*")
    return path


def test_at_least_seven_exercises_with_handouts():
    assert len(EXERCISES) >= 7
    assert set(STARTER_FAILS) == set(EXERCISES)
    for name, module in EXERCISES.items():
        folder = HANDOUTS / name
        readme = (folder / "README.md").read_text(encoding="utf-8")
        assert f"resblocks check {name} " in readme
        assert (folder / module.STARTER).is_file()
        assert handout(name, "solution").suffix == Path(module.STARTER).suffix


@pytest.mark.parametrize("name", EXERCISES)
def test_solution_passes(name):
    verdict = check(name, handout(name, "solution"))
    assert verdict.passed, str(verdict)
    assert str(verdict).startswith(f"PASS: {name}: ")


@pytest.mark.parametrize("name", EXERCISES)
def test_starter_fails_with_a_hint(name):
    verdict = check(name, handout(name, "starter"))
    assert not verdict.passed
    problem, hint = STARTER_FAILS[name]
    assert problem in verdict.message
    assert hint in verdict.hint
    assert str(verdict) == f"FAIL: {verdict.message}\nHint: {verdict.hint}"


def test_check_command_exit_codes(tmp_path, capsys):
    assert main(["check", "resnet34", str(handout("resnet34", "starter"))]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL: resnet34: ") and "\nHint: " in out
    assert main(["check", "resnet34", str(tmp_path / "missing.yaml")]) == 2
    assert "Copy the starter first" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "no_such_exercise", "x.yaml"])


def test_exercises_command_lists_them(capsys):
    assert main(["exercises"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXERCISES)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check_edited(tmp_path: Path, name: str, old: str, new: str, count: int = -1):
    """The checker's verdict on the exercise's solution with `old` replaced by `new`."""
    text = handout(name, "solution").read_text().replace(old, new, count)
    return check(name, write(tmp_path, "mine.yaml", text))


def test_wrong_numbers_say_which_way(tmp_path):
    verdict = check_edited(tmp_path, "shortcuts", "extra_params: 2944", "extra_params: 2816")
    assert verdict.message == "shortcuts: answers.extra_params = 2,816 is too low."
    assert "4 numbers per batch-norm channel" in verdict.hint


def test_yaml_mistakes_are_reported_with_their_line(tmp_path):
    verdict = check(
        "swap_block", write(tmp_path, "mine.yaml", "recipe:\n  base: resnet50\n   name: x\n")
    )
    assert not verdict.passed and "line 3" in verdict.message and "indent" in verdict.hint


def test_projection_is_not_option_a(tmp_path):
    verdict = check_edited(
        tmp_path,
        "plain_vs_residual",
        "    name: my_resnet56\n",
        "    name: my_resnet56\n    defaults: {shortcut: projection}\n",
    )
    assert verdict.message == (
        "plain_vs_residual: recipes.resnet56 stage 0 has shortcut 'projection'; "
        "this network needs 'zero_pad'."
    )
    assert "option B" in verdict.hint


def test_wrong_depth_names_the_formula(tmp_path):
    verdict = check_edited(
        tmp_path,
        "plain_vs_residual",
        "stages: {0: {repeats: 9}, 1: {repeats: 9}, 2: {repeats: 9}}",
        "stages: {0: {repeats: 9}}",
        1,
    )
    assert "recipes.plain56 has repeats [9, 3, 3]: 32 weighted layers, not 56." in verdict.message
    assert "6n+2" in verdict.hint


def test_resnet34_must_derive_from_resnet18(tmp_path):
    path = write(tmp_path, "mine.yaml", "name: mine\nbase: resnet34\n")
    verdict = check("resnet34", path)
    assert verdict.message == "resnet34: the recipe's base is 'resnet34', not 'resnet18'."


def test_inception_scale_names_the_unscaled_block(tmp_path):
    verdict = check_edited(
        tmp_path, "inception_scale", "unscaled_block: block8_10", "unscaled_block: block8_9"
    )
    assert (
        verdict.message
        == "inception_scale: answers.unscaled_block = 'block8_9' is scaled in inception_resnet_v2."
    )


def test_preactivation_checks_the_answers_on_the_built_blocks(tmp_path):
    solution = handout("preactivation", "solution").read_text()
    swapped = solution.replace("res_block: relu(x)", "res_block: x")
    verdict = check("preactivation", write(tmp_path, "mine.yaml", swapped))
    assert verdict.message == "preactivation: answers.zero_branch_output.res_block = 'x' is wrong."
    assert "What does ResBlock.call do after the sum?" in verdict.hint
    no_post = solution.replace("    - {name: post, block: post_norm, tap: c5}\n", "")
    verdict = check("preactivation", write(tmp_path, "mine.yaml", no_post))
    assert (
        verdict.message
        == "preactivation: recipe's last stage is 'pre_act_res_block', not a post-norm."
    )


def test_feature_pyramid_wrong_channels(tmp_path):
    verdict = check_edited(tmp_path, "feature_pyramid", "c3: [28, 28, 512]", "c3: [28, 28, 128]")
    assert (
        verdict.message
        == "feature_pyramid: answers.shapes.c3 = [28, 28, 128]: the channels are wrong."
    )
    assert "expansion 4" in verdict.hint


PRE_ACTIVATION = '''
    """A pre-activation basic block (He et al. 2016): BN-ReLU-conv, twice, plus x."""
    import keras

    from registry import register_block
    from resblocks.shortcut import make_shortcut


    @register_block("my_preact_block")
    class PreActBlock(keras.layers.Layer):
        def __init__(self, filters: int, strides: int = 1, shortcut: str = "projection", **kwargs):
            super().__init__(**kwargs)
            self.filters, self.strides, self.shortcut = filters, strides, shortcut
            self.bn1 = keras.layers.BatchNormalization(name="bn1")
            self.conv1 = keras.layers.Conv2D(
                filters, 3, strides, padding="same", use_bias=False, name="conv1"
            )
            self.bn2 = keras.layers.BatchNormalization(name="bn2")
            self.conv2 = keras.layers.Conv2D(
                filters, 3, padding="same", use_bias=False, name="conv2"
            )
            self.downsample = None

        def build(self, input_shape):
            self.downsample = make_shortcut(
                self.shortcut, input_shape[-1], self.filters, self.strides
            )

        def call(self, x, training=None):
            y = self.conv1(keras.ops.relu(self.bn1(x, training=training)))
            y = self.conv2(keras.ops.relu(self.bn2(y, training=training)))
            identity = x if self.downsample is None else self.downsample(x, training=training)
            return y + identity

        def compute_output_shape(self, input_shape):
            return self.conv2.compute_output_shape(self.conv1.compute_output_shape(input_shape))

        def get_config(self):
            config = {"filters": self.filters, "strides": self.strides, "shortcut": self.shortcut}
            return {**super().get_config(), **config}


    RECIPE = {
        "base": "resnet20_cifar",
        "name": "preact_resnet20",
        "stages": {1: {"block": "my_preact_block"}},
    }
'''


def test_own_block_accepts_a_pre_activation_block(tmp_path):
    verdict = check("own_block", write(tmp_path, "preact.py", PRE_ACTIVATION))
    assert verdict.passed, str(verdict)
    # checked twice in one process: the scratch registry forgets the block in between
    assert check("own_block", write(tmp_path, "again.py", PRE_ACTIVATION)).passed


def test_own_block_must_add_its_input(tmp_path):
    plain = PRE_ACTIVATION.replace("return y + identity", "return y")
    verdict = check("own_block", write(tmp_path, "plain.py", plain))
    assert "with all its weights at zero, PreActBlock outputs values around 0" in verdict.message
    assert "H(x) = F(x) + x" in verdict.hint


def test_own_block_reports_the_students_error_and_line(tmp_path):
    broken = PRE_ACTIVATION.replace("    RECIPE = {\n", "    RECIPE = 1 / 0\n    RECIPE = {\n")
    verdict = check("own_block", write(tmp_path, "broken.py", broken))
    assert verdict.message.startswith("own_block: broken.py (line 43) raised ZeroDivisionError")


def test_weighted_layers_count_as_the_paper_names_networks():
    assert weighted_layers(built("resnet18")) == 18
    assert weighted_layers(built("resnet18_cifar")) == 18  # projections are not counted


def test_a_nested_answer_is_named_by_its_full_path():
    from registry.exercises.worksheet import Fail, check_number

    with pytest.raises(Fail, match=r"answers\.scales\.block35 is not filled in yet"):
        check_number({"block35": "TODO"}, "block35", 0.17, "hint", where="answers.scales")
    with pytest.raises(Fail, match=r"answers\.strides\.c2 = 2 is too low"):
        check_number({"c2": 2}, "c2", 4, "hint", where="answers.strides")


def test_stochastic_depth_wants_the_papers_indexing_too(tmp_path):
    """timm's rule gives 14.4 active blocks; answering that for Huang's rule is too high."""
    verdict = check_edited(
        tmp_path, "stochastic_depth", "huang_expected_depth: 14.3", "huang_expected_depth: 14.4"
    )
    assert verdict.message == "stochastic_depth: answers.huang_expected_depth = 14.4 is too high."
    assert "l from 1 to L" in verdict.hint


def test_cardinality_refuses_a_width_of_unequal_cost(tmp_path):
    """8 paths of width 16 cost 20% more than ResNet-50: not Table 2's comparison."""
    verdict = check_edited(tmp_path, "cardinality", "    8: 14", "    8: 16")
    assert verdict.message == (
        "cardinality: 8x16d has 20% more multiply-adds than ResNet-50; Table 2 compares networks "
        "of equal cost."
    )
    assert "int(filters * d / 64) * C" in verdict.hint


def test_gradient_flow_wants_the_measured_answers(tmp_path):
    """The checker's own measurement decides: the plain network's first block gets more."""
    verdict = check_edited(
        tmp_path, "gradient_flow", "larger_first_block: plain56_cifar", "larger_first_block: resnet"
    )
    assert verdict.message == "gradient_flow: answers.larger_first_block = 'resnet' is wrong."
    verdict = check_edited(tmp_path, "gradient_flow", "plain_orders: 3.1", "plain_orders: -2")
    assert verdict.message == "gradient_flow: answers.plain_orders = -2 is too low."
    verdict = check_edited(tmp_path, "gradient_flow", "residual_orders: 0.4", "residual_orders: 3")
    assert verdict.message == "gradient_flow: answers.residual_orders = 3 is too high."


def test_gradient_flow_refuses_the_folklore(tmp_path):
    """He et al. 2015, sec. 4.1: with batch norm the plain network's gradients do not vanish."""
    verdict = check_edited(tmp_path, "gradient_flow", "plain_vanishing: no", "plain_vanishing: yes")
    assert verdict.message == (
        "gradient_flow: answers.plain_vanishing = yes does not follow from your plain_orders."
    )
    assert "not from what is often said" in verdict.hint
    from registry.exercises.gradient_flow import PLAIN, RESIDUAL, measured

    norms = measured()
    assert norms[PLAIN][1] > 10 * norms[PLAIN][-1]  # grows towards the input: not vanishing
    assert norms[PLAIN][1] > norms[RESIDUAL][1]


def test_where_it_looks_heatmaps_of_the_other_class_miss_the_square(tmp_path):
    verdict = check_edited(tmp_path, "where_it_looks", "class: bright", "class: dark")
    assert verdict.message.startswith(
        "where_it_looks: Grad-CAM of class 'dark' at conv3 peaks inside the square in only "
    )
    assert "evidence FOR a class" in verdict.hint


def test_where_it_looks_checks_the_layer_and_the_numbers(tmp_path):
    verdict = check_edited(tmp_path, "where_it_looks", "layer: conv3", "layer: conv4")
    assert verdict.message == (
        "where_it_looks: grad_cam.layer = 'conv4' is not a body layer of squares. "
        "Body layers: stem, conv2, conv3"
    )
    verdict = check_edited(tmp_path, "where_it_looks", "map_size: 16", "map_size: 32")
    assert verdict.message == "where_it_looks: answers.map_size = 32 is too high."
    verdict = check_edited(tmp_path, "where_it_looks", "hit_rate: 1.0", "hit_rate: 0.5")
    assert verdict.message.startswith("where_it_looks: answers.hit_rate = 0.5 is too low")


def test_where_it_looks_counts_a_peak_inside_the_square_only():
    from registry.exercises.where_it_looks import hit_rate, squares

    images, labels, corners = squares(4, seed=0)
    (row, col) = corners[1]
    assert labels.tolist() == [0, 1, 0, 1] and corners[0].tolist() == [-1, -1]
    assert (images[1, row : row + 8, col : col + 8] == 255).all() and images[0].max() < 255
    inside, outside = np.zeros((2, 32, 32)), np.zeros((2, 32, 32))
    inside[0, row + 7, col + 7] = inside[1, row, col] = 1
    outside[0, row - 1 if row else row + 8, col] = outside[1, row, col - 1 if col else col + 8] = 1
    both = np.stack([corners[1], corners[1]])
    assert hit_rate(inside, both) == 1.0
    assert hit_rate(outside, both) == 0.0
