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


# (exercise, text of the solution, replaced by, message (a trailing "...": its start), hint part)
WRONG_ANSWERS = {
    "numbers say which way": (
        "shortcuts",
        "extra_params: 2944",
        "extra_params: 2816",
        "shortcuts: answers.extra_params = 2,816 is too low.",
        "4 numbers per batch-norm channel",
    ),
    "projection is not option A": (
        "plain_vs_residual",
        "    name: my_resnet56\n",
        "    name: my_resnet56\n    defaults: {shortcut: projection}\n",
        "plain_vs_residual: recipes.resnet56 stage 0 has shortcut 'projection'; "
        "this network needs 'zero_pad'.",
        "option B",
    ),
    "a wrong depth names the formula": (
        "plain_vs_residual",
        "{shortcut: none}\n    stages: {0: {repeats: 9}, 1: {repeats: 9}, 2: {repeats: 9}}",
        "{shortcut: none}\n    stages: {0: {repeats: 9}}",
        "plain_vs_residual: recipes.plain56 has repeats [9, 3, 3]: 32 weighted layers, not 56...",
        "6n+2",
    ),
    "the unscaled Inception block": (
        "inception_scale",
        "unscaled_block: block8_10",
        "unscaled_block: block8_9",
        "inception_scale: answers.unscaled_block = 'block8_9' is scaled in inception_resnet_v2.",
        "",
    ),
    "feature pyramid channels": (
        "feature_pyramid",
        "c3: [28, 28, 512]",
        "c3: [28, 28, 128]",
        "feature_pyramid: answers.shapes.c3 = [28, 28, 128]: the channels are wrong.",
        "expansion 4",
    ),
    "stochastic depth: timm's rule for Huang's": (  # timm's rule gives 14.4 active blocks
        "stochastic_depth",
        "huang_expected_depth: 14.3",
        "huang_expected_depth: 14.4",
        "stochastic_depth: answers.huang_expected_depth = 14.4 is too high.",
        "l from 1 to L",
    ),
    "cardinality of unequal cost": (  # 8 paths of width 16 cost 20% more than ResNet-50
        "cardinality",
        "    8: 14",
        "    8: 16",
        "cardinality: 8x16d has 20% more multiply-adds than ResNet-50; Table 2 compares networks "
        "of equal cost.",
        "int(filters * d / 64) * C",
    ),
    "gradient flow: which network": (
        "gradient_flow",
        "larger_first_block: plain56_cifar",
        "larger_first_block: resnet",
        "gradient_flow: answers.larger_first_block = 'resnet' is wrong.",
        "",
    ),
    "gradient flow: plain orders": (
        "gradient_flow",
        "plain_orders: 3.1",
        "plain_orders: -2",
        "gradient_flow: answers.plain_orders = -2 is too low.",
        "",
    ),
    "gradient flow: residual orders": (
        "gradient_flow",
        "residual_orders: 0.4",
        "residual_orders: 3",
        "gradient_flow: answers.residual_orders = 3 is too high.",
        "",
    ),
    "gradient flow: the folklore": (  # He et al. 2015, sec. 4.1
        "gradient_flow",
        "plain_vanishing: no",
        "plain_vanishing: yes",
        "gradient_flow: answers.plain_vanishing = yes does not follow from your plain_orders.",
        "not from what is often said",
    ),
    "where it looks: the other class": (
        "where_it_looks",
        "class: bright",
        "class: dark",
        "where_it_looks: Grad-CAM of class 'dark' at conv3 peaks inside the square in only ...",
        "evidence FOR a class",
    ),
    "where it looks: not a body layer": (
        "where_it_looks",
        "layer: conv3",
        "layer: conv4",
        "where_it_looks: grad_cam.layer = 'conv4' is not a body layer of squares. "
        "Body layers: stem, conv2, conv3",
        "",
    ),
    "where it looks: map size": (
        "where_it_looks",
        "map_size: 16",
        "map_size: 32",
        "where_it_looks: answers.map_size = 32 is too high.",
        "",
    ),
    "where it looks: hit rate": (
        "where_it_looks",
        "hit_rate: 1.0",
        "hit_rate: 0.5",
        "where_it_looks: answers.hit_rate = 0.5 is too low...",
        "",
    ),
}


@pytest.mark.parametrize("case", WRONG_ANSWERS.values(), ids=list(WRONG_ANSWERS))
def test_a_wrong_answer_is_named_with_a_hint(tmp_path, case):
    name, old, new, message, hint = case
    text = handout(name, "solution").read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {name}'s solution"
    verdict = check(name, write(tmp_path, "mine.yaml", text.replace(old, new)))
    if message.endswith("..."):
        assert verdict.message.startswith(message.removesuffix("...")), verdict.message
    else:
        assert verdict.message == message
    assert hint in verdict.hint


def test_yaml_mistakes_are_reported_with_their_line(tmp_path):
    verdict = check(
        "swap_block", write(tmp_path, "mine.yaml", "recipe:\n  base: resnet50\n   name: x\n")
    )
    assert not verdict.passed and "line 3" in verdict.message and "indent" in verdict.hint


def test_resnet34_must_derive_from_resnet18(tmp_path):
    path = write(tmp_path, "mine.yaml", "name: mine\nbase: resnet34\n")
    verdict = check("resnet34", path)
    assert verdict.message == "resnet34: the recipe's base is 'resnet34', not 'resnet18'."


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


def test_gradient_flow_measures_growth_not_vanishing():
    """He et al. 2015, sec. 4.1: with batch norm the plain network's gradients do not vanish."""
    from registry.exercises.gradient_flow import PLAIN, RESIDUAL, measured

    norms = measured()
    assert norms[PLAIN][1] > 10 * norms[PLAIN][-1]  # grows towards the input: not vanishing
    assert norms[PLAIN][1] > norms[RESIDUAL][1]


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
