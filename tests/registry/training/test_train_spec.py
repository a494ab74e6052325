"""The train: section: located validation messages, flag overrides, and the schedules it builds."""

import keras
import pytest
from helpers import training_recipe

from registry import RecipeError, list_models, load_recipe
from registry.recipe.train_spec import TrainSpec
from registry.training.optim import learning_rate, make_optimizer
from registry.training.run import resolve_spec


def with_train(**train):
    return {**training_recipe(), "train": train}


@pytest.mark.parametrize("name", [n for n in list_models() if "train" in load_recipe(n).raw])
def test_shipped_training_recipes_validate(name):
    spec = load_recipe(name).train
    assert isinstance(spec, TrainSpec)
    assert spec.epochs >= 1


def test_empty_section_gives_the_defaults():
    spec = load_recipe(with_train()).train
    assert (spec.batch_size, spec.epochs, spec.optimizer.name, spec.schedule.name) == (
        32,
        10,
        "adam",
        "constant",
    )
    assert spec.optimizer.learning_rate == 0.001
    assert spec.xla == "auto" and spec.mixed_precision is False


def test_string_shorthand_for_optimizer_and_schedule():
    spec = load_recipe(with_train(optimizer="sgd", schedule="cosine")).train
    assert spec.optimizer.name == "sgd" and spec.optimizer.momentum == 0.9
    assert spec.schedule.name == "cosine"


@pytest.mark.parametrize(
    "train, message",
    [
        (
            {"augment": {"rotaton": 15}},
            "train.augment.rotaton: unknown key 'rotaton'. Did you mean 'rotation'? Valid keys: "
            "color_jitter, cutmix, height_shift, horizontal_flip",
        ),
        (
            {"optimizer": {"name": "sgd", "momentun": 0.9}},
            "train.optimizer.momentun: unknown key 'momentun'. Did you mean 'momentum'?",
        ),
        (
            {"optimizer": {"name": "adamx"}},
            "train.optimizer: Input tag 'adamx' found using 'name' does not match any of the "
            "expected tags",
        ),
        (
            {"schedule": {"name": "step", "milestones": [30, 20]}},
            "train.schedule: milestones must be strictly increasing. Received: [30, 20]",
        ),
        (
            {"epochs": 3, "schedule": {"name": "cosine", "warmup_epochs": 3}},
            "train: schedule.warmup_epochs (3) must be less than epochs (3).",
        ),
        ({"batch_size": 0}, "train.batch_size: must be at least 1. Received: 0."),
        (
            {"augment": {"width_shift": 1.5}},
            "train.augment.width_shift: must be less than 1.0. Received: 1.5.",
        ),
        (
            {"batch_size": "32"},
            "train.batch_size: expected a whole number. Received: '32' (a string). Write it "
            "without quotes: 32.",
        ),
    ],
)
def test_errors_name_the_key_and_the_value(train, message):
    with pytest.raises(RecipeError) as error:
        load_recipe(with_train(**train))
    assert message in str(error.value)


def test_flags_override_the_section_and_are_validated():
    recipe = load_recipe(with_train(epochs=5, batch_size=8))
    spec = resolve_spec(recipe, epochs=7, batch_size=None, image_size=[24, 28], freeze=["stem"])
    assert (spec.epochs, spec.batch_size, spec.image_hw, spec.freeze) == (7, 8, (24, 28), ["stem"])
    with pytest.raises(RecipeError, match=r"train.epochs: must be at least 1. Received: 0\."):
        resolve_spec(recipe, epochs=0)


def rates(schedule, steps):
    return [float(keras.ops.convert_to_numpy(schedule(step))) for step in steps]


def test_cosine_with_warmup_climbs_then_decays_to_the_final_fraction():
    spec = TrainSpec.model_validate(
        {
            "epochs": 10,
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "schedule": {"name": "cosine", "warmup_epochs": 2, "final_fraction": 0.01},
        }
    )
    schedule = learning_rate(spec, steps_per_epoch=10)
    start, top, end = rates(schedule, [0, 20, 100])
    assert start == pytest.approx(0.0)
    assert top == pytest.approx(0.1)
    assert end == pytest.approx(0.001, rel=1e-3)


def test_step_schedule_divides_after_each_milestone():
    spec = TrainSpec.model_validate(
        {
            "epochs": 6,
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "schedule": {"name": "step", "milestones": [2, 4]},
        }
    )
    schedule = learning_rate(spec, steps_per_epoch=5)
    assert rates(schedule, [0, 9, 10, 19, 20]) == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])


def test_constant_with_warmup_is_flat_after_it():
    spec = TrainSpec.model_validate(
        {"epochs": 4, "schedule": {"name": "constant", "warmup_epochs": 1}}
    )
    schedule = learning_rate(spec, steps_per_epoch=4)
    assert rates(schedule, [2, 4, 10, 16]) == pytest.approx([0.0005, 0.001, 0.001, 0.001])


@pytest.mark.parametrize(
    "optimizer, cls",
    [
        ("sgd", keras.optimizers.SGD),
        ("adam", keras.optimizers.Adam),
        ("adamw", keras.optimizers.AdamW),
        ("rmsprop", keras.optimizers.RMSprop),
    ],
)
def test_each_optimizer_section_builds_its_keras_optimizer(optimizer, cls):
    optimizer = make_optimizer(
        TrainSpec.model_validate({"optimizer": optimizer}), steps_per_epoch=3
    )
    assert isinstance(optimizer, cls)  # registry.training.optim subclasses them


def model_of(recipe):
    """The model training builds for `recipe` (two classes, 32x32), under its precision policy."""
    from registry.training.run import new_model, precision, resolve_recipe

    spec = recipe.train
    with precision(spec.mixed_precision):
        return new_model(
            resolve_recipe(recipe, spec, ["a", "b"], (32, 32)),
            spec,
            steps_per_epoch=2,
            say=lambda *_: None,
        )


def test_mixed_precision_and_xla_reach_the_model_and_the_policy_is_restored():
    recipe = load_recipe(with_train(mixed_precision="bfloat16", xla=True))
    model = model_of(recipe)
    assert keras.config.dtype_policy().name == "float32"
    assert model.get_layer("stem").dtype_policy.name == "mixed_bfloat16"
    assert (
        model.get_layer("head").predictions.dtype_policy.name == "float32"
    )  # softmax and loss stay exact
    assert model.jit_compile is True


@pytest.mark.parametrize("bf16_hardware, policy", [(False, "float32"), (True, "mixed_bfloat16")])
def test_mixed_precision_true_on_a_cpu_follows_registry_speed(monkeypatch, bf16_hardware, policy):
    from registry.training import speed
    from registry.training.run import dtype_policy, speed_note

    monkeypatch.setattr(speed, "accelerator", lambda: "cpu")
    monkeypatch.setattr(speed, "cpu_has_bf16", lambda: bf16_hardware)
    recipe = load_recipe(with_train(mixed_precision=True))
    spec = recipe.train
    assert dtype_policy(spec.mixed_precision) == policy
    model = model_of(recipe)
    assert model.get_layer("stem").dtype_policy.name == policy
    assert model.jit_compile is False  # xla: auto is off on CPUs
    note = speed_note(spec, model)
    assert ("no bfloat16 hardware" in note) is (not bf16_hardware)


def test_the_recipe_reference_documents_every_train_key():
    from pathlib import Path

    from registry.recipe import train_spec as specs

    page = Path(__file__).resolve().parents[3] / "docs" / "reference" / "recipes.md"
    section = page.read_text(encoding="utf-8").split("## The `train:` section")[1].split("\n## ")[0]
    missing = [key for key in TrainSpec.model_fields if f"| `{key}` |" not in section]
    for model in (
        specs.AugmentSpec,
        specs.SGDSpec,
        specs.AdamSpec,
        specs.RMSpropSpec,
        specs.ConstantSchedule,
        specs.CosineSchedule,
        specs.StepSchedule,
    ):
        missing += [
            f"{model.__name__}.{key}"
            for key in model.model_fields
            if key != "name" and f"`{key}`" not in section
        ]
    assert not missing, f"docs/reference/recipes.md does not document: {', '.join(missing)}"
