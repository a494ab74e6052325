"""The recipes that train as the field does hold the published procedures, key by key."""

import pytest

from registry import load_recipe
from registry.cli import main

# Wightman et al. 2021, "ResNet strikes back", Table 1, column A3.
RSB_A3 = {
    "image_size": 160,
    "batch_size": 2048,
    "epochs": 100,
    "loss": "bce",
    "label_smoothing": 0.0,
    "ema": None,
    "weight_decay_on_norm_and_bias": False,
}
# torchvision's IMAGENET1K_V2 command (references/classification, 8 x 128 images).
TV_V2 = {
    "image_size": 176,
    "batch_size": 1024,
    "epochs": 600,
    "loss": "categorical",
    "label_smoothing": 0.1,
    "weight_decay_on_norm_and_bias": False,
}


@pytest.mark.parametrize(
    ("name", "published"), [("resnet50_rsb_a3", RSB_A3), ("resnet50_tv_v2", TV_V2)]
)
def test_the_recipe_trains_as_published(name, published):
    train = load_recipe(name).train
    for key, value in published.items():
        got = getattr(train, key)
        got = train.image_hw[0] if key == "image_size" else got
        assert got == value, f"{name}: train.{key}"


def test_resnet_strikes_back_a3():
    train = load_recipe("resnet50_rsb_a3").train
    assert (train.optimizer.name, train.optimizer.learning_rate) == ("lamb", 0.008)
    assert train.optimizer.weight_decay == 0.02
    assert (train.schedule.name, train.schedule.warmup_epochs) == ("cosine", 5)
    augment = train.augment
    assert augment.horizontal_flip and augment.random_resized_crop.scale == [0.08, 1.0]
    rand = augment.rand_augment  # rand-m6-mstd0.5, two ops
    assert (rand.num_ops, rand.magnitude, rand.magnitude_std) == (2, 6.0, 0.5)
    assert (augment.mixup, augment.cutmix, augment.mix_switch_probability) == (0.1, 1.0, 0.5)
    assert augment.random_erasing is None and not augment.trivial_augment
    assert (train.eval.resize, train.eval.crop_pct, train.eval.interpolation) == (
        "shorter_side",
        0.95,
        "bicubic",
    )


def test_torchvision_v2():
    train = load_recipe("resnet50_tv_v2").train
    sgd = train.optimizer
    assert (sgd.name, sgd.learning_rate, sgd.momentum, sgd.weight_decay) == ("sgd", 0.5, 0.9, 2e-5)
    assert (train.schedule.name, train.schedule.warmup_epochs) == ("cosine", 5)
    # --model-ema: decay 0.99998 every 32 steps, adjusted by 1024 * 32 / 600 steps
    per_update = 1 - (1 - 0.99998) * 1024 * 32 / 600
    assert train.ema == pytest.approx(per_update ** (1 / 32), abs=1e-6)
    augment = train.augment
    assert augment.trivial_augment and augment.rand_augment is None  # --auto-augment ta_wide
    assert augment.random_erasing.probability == 0.1  # --random-erase 0.1
    assert (augment.mixup, augment.cutmix) == (0.2, 1.0)
    assert train.eval.resize_size((224, 224)) == (232, 232)  # --val-resize-size 232


@pytest.mark.parametrize("name", ["resnet50_rsb_a3", "resnet50_tv_v2"])
def test_show_train_prints_the_whole_pipeline(name, capsys):
    assert main(["show", name, "--train"]) == 0
    out = capsys.readouterr().out
    train = load_recipe(name).train
    for word in ("random_resized_crop", "mixup", "cutmix", "cosine", train.optimizer.name):
        assert word in out, word
    assert ("rand_augment" in out) == (train.augment.rand_augment is not None)
    assert ("trivial_augment" in out) == train.augment.trivial_augment
