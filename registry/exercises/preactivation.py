"""Exercise preactivation: where the ReLU goes, and why the identity path stays clean.

He et al. 2016, "Identity Mappings in Deep Residual Networks", Figure 1(b):
the 2015 block outputs relu(x + F(x)), the pre-activation block x + F(x),
with each BN and ReLU moved in front of its convolution. The student writes
the pre-activation twin of resnet18_cifar, then answers from the built
models: what each block returns when its residual branch is silenced, how
many ReLUs sit on the shortcut path, and what the move costs in parameters.
"""

from pathlib import Path

import keras
import numpy as np

from registry.assembly import build
from registry.exercises.worksheet import Fail, answer, check_number, read_yaml_file, recipe_from
from registry.recipe import load_recipe
from resblocks import PostNorm, PreActResBlock, ResBlock

TITLE = "Pre-activation versus post-activation: where the ReLU goes on ResNet-18"
STARTER = "starter.yaml"

REFERENCE = "resnet18_cifar"
# What a block can return when its residual branch F outputs zero.
OUTPUTS = ("x", "relu(x)", "0")


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    recipe = recipe_from(sheet.get("recipe"), "recipe", path.parent)
    reference = load_recipe(REFERENCE)
    _check_twin(recipe, reference)

    answers = sheet.get("answers") or {}
    yours, theirs = build(recipe), build(reference)
    silenced = answer(
        answers,
        "zero_branch_output",
        "Give a mapping `{res_block: ..., pre_act_res_block: ...}`, each one of "
        f"{', '.join(OUTPUTS)}.",
    )
    if not isinstance(silenced, dict):
        raise Fail(
            f"answers.zero_branch_output must be a mapping. Received: {silenced!r}",
            "Write `zero_branch_output: {res_block: ..., pre_act_res_block: ...}`.",
        )
    if "preact_block" in silenced:  # the block's name before it followed its class
        silenced.setdefault("pre_act_res_block", silenced["preact_block"])
    for name, cls in (("res_block", ResBlock), ("pre_act_res_block", PreActResBlock)):
        truth = _zero_branch_output(cls)
        got = str(silenced.get(name, "")).replace(" ", "")
        if got != truth:
            raise Fail(
                f"answers.zero_branch_output.{name} = {silenced.get(name)!r} is wrong.",
                f"With F(x) = 0 the sum is x. What does {cls.__name__}.call do after the sum? "
                f"Answer one of {', '.join(OUTPUTS)}.",
            )
    check_number(
        answers,
        "relus_on_identity_path",
        _relus_after_sums(theirs),
        f"Count the blocks of {REFERENCE} that apply a ReLU after their sum: the signal "
        "along the shortcuts passes each of them.",
        rel=0,
    )
    check_number(
        answers,
        "relus_on_identity_path_preact",
        _relus_after_sums(yours),
        "The same count in your pre-activation recipe: what comes after the sum there?",
        rel=0,
    )
    check_number(
        answers,
        "post_norm_params",
        _post_norm(yours).count_params(),
        "count_params() of your post_norm stage: one BN with 4 numbers per channel (gamma, beta, "
        "mean, variance).",
        rel=0,
    )
    change = yours.count_params() - theirs.count_params()
    check_number(
        answers,
        "params_change",
        change,
        f"count_params() of your recipe minus that of {REFERENCE}. Where did BNs go: the stem's, "
        "the shortcut projections', and each block's first BN now normalizes its input.",
        rel=0,
    )
    return (
        f"a silenced 2015 block returns relu(x), a pre-activation block x itself; "
        f"{_relus_after_sums(theirs)} ReLUs on {REFERENCE}'s shortcut path, none on yours, "
        f"and the move changes {change:+,} parameters. With nothing after the sums, "
        "x_L = x_l + sum of F: any block reaches any other unchanged (He et al. 2016, eq. 4)."
    )


def _check_twin(recipe, reference) -> None:
    """Same stages as resnet18_cifar with pre-activation blocks, a bare stem and a post-norm."""
    if recipe.stem.block != "pre_act_stem":
        raise Fail(
            f"recipe's stem is '{recipe.stem.block}'.",
            "A pre-activation network starts with a bare convolution: `stem: {block: "
            "pre_act_stem, filters: 64, kernel_size: 3, strides: 1, max_pool: false}`.",
        )
    stages, last = recipe.stages[:-1], recipe.stages[-1]
    if last.call.block != "post_norm":
        raise Fail(
            f"recipe's last stage is '{last.call.block}', not a post-norm.",
            "No pre-activation block ends with BN-ReLU, so add a last stage `{block: "
            "post_norm}` before the head.",
        )
    if len(stages) != len(reference.stages):
        raise Fail(
            f"recipe has {len(stages)} stages before the post-norm; {REFERENCE} has "
            f"{len(reference.stages)}.",
            "Keep the four stages of resnet18_cifar and add one post_norm stage.",
        )
    for i, (mine, theirs) in enumerate(zip(stages, reference.stages)):
        if mine.call.block != "pre_act_res_block":
            raise Fail(
                f"recipe stage {i} ({mine.name}) still uses '{mine.call.block}'.",
                "Swap each res_block for pre_act_res_block; keep filters, repeats and strides.",
            )
        keys = ("filters", "strides")
        if mine.repeats != theirs.repeats or any(
            mine.call.args.get(k) != theirs.call.args.get(k) for k in keys
        ):
            raise Fail(
                f"recipe stage {i} ({mine.name}) changes filters, strides or repeats.",
                f"Keep the numbers of {REFERENCE}: only the block changes.",
            )


def _zero_branch_output(cls) -> str:
    """What a block returns for x when its residual branch outputs zero, tried on a built one."""
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32")
    block = cls(8)
    block(x)
    last = block.conv2.bn.gamma if cls is ResBlock else block.conv2.kernel
    last.assign(np.zeros(last.shape, "float32"))
    if cls is ResBlock:
        block.conv2.bn.beta.assign(np.zeros(block.conv2.bn.beta.shape, "float32"))
    out = keras.ops.convert_to_numpy(block(x, training=False))
    for name, value in (("x", x), ("relu(x)", np.maximum(x, 0)), ("0", np.zeros_like(x))):
        if np.allclose(out, value):
            return name
    raise AssertionError(f"{cls.__name__} with a silenced branch returns none of {OUTPUTS}")


def _relus_after_sums(model) -> int:
    """Blocks whose sum is followed by a ReLU (ResBlock's `relu`); none for pre-activation."""
    return sum(1 for layer in model.layers if isinstance(layer, ResBlock))


def _post_norm(model):
    return next(layer for layer in model.layers if isinstance(layer, PostNorm))
