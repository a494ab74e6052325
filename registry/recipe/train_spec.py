"""The `train:` section of a recipe: data, augmentation, optimizer, schedule and speed settings.

Validated like the rest of the recipe.

Pure pydantic (no TensorFlow), so the recipe's spec can hold it and a recipe
is checked before anything heavy loads. Every key has a default: `train: {}`
trains with Adam at 1e-3 for 10 epochs on batches of 32. The command line's
flags (`--epochs`, `--batch-size`, ...) override these values.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

STRICT = ConfigDict(extra="forbid", strict=True)

LearningRate = Annotated[float, Field(gt=0.0, le=10.0)]
WeightDecay = Annotated[float, Field(ge=0.0, le=1.0)]
ClipNorm = Annotated[float, Field(gt=0.0)]


def _class_weight(value: Any) -> Any:
    """One clear error for `class_weight`, whatever is wrong; YAML's number keys become names.

    `class_weight: {0: 2.0}` names the class folder "0": YAML reads that key as a number.
    """
    rule = "must be balanced or a mapping of class names to weights, e.g. {cat: 2.0}"
    if value is None or value == "balanced":
        return value
    if isinstance(value, str):
        near = " Did you mean 'balanced'?" if value.lower().startswith("bal") else ""
        raise ValueError(f"{rule}. Received: {value!r}.{near}")
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{rule}. Received: {value!r}.")
    weights = {}
    for name, weight in value.items():
        number = isinstance(weight, (int, float)) and not isinstance(weight, bool)
        if not number or not 0.0 <= weight <= 1e6:
            raise ValueError(
                f"the weight of class {name!r} must be a number from 0 to 1e6. "
                f"Received: {weight!r}."
            )
        weights[str(name) if isinstance(name, int) else name] = float(weight)
    return weights


ClassWeight = Annotated[
    Literal["balanced"] | dict[str, float],
    BeforeValidator(_class_weight),
]


def _named(value: Any) -> Any:
    """`optimizer: adam` is short for `optimizer: {name: adam}`."""
    return {"name": value} if isinstance(value, str) else value


def _switch(value: Any) -> Any:
    """`key: true` is the key with its defaults, `key: false` (or null) leaves it off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


def _pair(name: str, pair: list[float], low: float, high: float | None, example: str) -> None:
    """One message for a [low, high] range key that is out of order or out of bounds."""
    a, b = pair
    top = "" if high is None else f", at most {high:g}"
    if not (low < a <= b and (high is None or b <= high)):
        raise ValueError(
            f"{name} must be [low, high] with {low:g} < low <= high{top}, e.g. {example}. "
            f"Received: {pair}."
        )


def _erase_value(value: Any) -> Any:
    """One message for random_erasing.value, whatever is wrong."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if value == "random" or (number and 0.0 <= value <= 255.0):
        return float(value) if number else value
    raise ValueError(
        "must be random (per-pixel noise) or a pixel value from 0 to 255, e.g. 0. "
        f"Received: {value!r}."
    )


Pair = Annotated[list[float], Field(min_length=2, max_length=2)]


class RandomResizedCropSpec(BaseModel):
    """torchvision's RandomResizedCrop: a crop of random area and aspect, resized back."""

    model_config = STRICT

    scale: Pair = Field(
        [0.08, 1.0], description="Range of the crop's area as a fraction of the image's."
    )
    ratio: Pair = Field(
        [0.75, 4.0 / 3.0], description="Range of the crop's aspect ratio (width / height)."
    )
    interpolation: Literal["bilinear", "bicubic", "nearest"] = "bilinear"

    @model_validator(mode="after")
    def _ranges(self) -> "RandomResizedCropSpec":
        _pair("scale", self.scale, 0.0, 1.0, "[0.08, 1.0]")
        _pair("ratio", self.ratio, 0.0, None, "[0.75, 1.3333]")
        return self


class RandomCropSpec(BaseModel):
    """torchvision's RandomCrop(size, padding): zero-pad each side, then crop back at random."""

    model_config = STRICT

    padding: int = Field(ge=1, le=1024, description="Zero pixels added on each side, e.g. 4.")


class RandAugmentSpec(BaseModel):
    """timm's RandAugment (`rand-m9-n2-mstd0.5`): num_ops random ops, each with probability 1/2."""

    model_config = STRICT

    num_ops: int = Field(2, ge=1, le=15, description="Operations drawn per image (timm's n).")
    magnitude: float = Field(
        9.0, ge=0.0, le=10.0, description="Strength from 0 to 10 (timm's m, e.g. 9)."
    )
    magnitude_std: float = Field(
        0.0,
        ge=0.0,
        le=10.0,
        description="Standard deviation of a normal noise on the magnitude, per op "
        "(timm's mstd, e.g. 0.5); 0 keeps it fixed.",
    )


class RandomErasingSpec(BaseModel):
    """timm's RandomErasing (Zhong et al. 2020): one random rectangle replaced per image."""

    model_config = STRICT

    probability: float = Field(
        0.25, gt=0.0, le=1.0, description="Chance an image gets a rectangle."
    )
    scale: Pair = Field(
        [0.02, 1.0 / 3.0], description="Range of the rectangle's area as a fraction."
    )
    ratio: Pair = Field([0.3, 1.0 / 0.3], description="Range of the rectangle's aspect ratio.")
    value: Annotated[Literal["random"] | float, BeforeValidator(_erase_value)] = Field(
        "random",
        description="random: per-pixel normal noise (timm's mode 'pixel'); or a pixel value "
        "0 to 255 for every erased pixel.",
    )

    @model_validator(mode="after")
    def _ranges(self) -> "RandomErasingSpec":
        _pair("scale", self.scale, 0.0, 1.0, "[0.02, 0.33]")
        _pair("ratio", self.ratio, 0.0, None, "[0.3, 3.3]")
        return self


class AugmentSpec(BaseModel):
    """Random changes to each training image, and mixes of a batch's images (timm, torchvision)."""

    model_config = STRICT

    horizontal_flip: bool = Field(False, description="Mirror left-right with probability 1/2.")
    vertical_flip: bool = Field(False, description="Mirror top-bottom with probability 1/2.")
    rotation: float = Field(
        0.0, ge=0.0, le=180.0, description="Rotate up to this many degrees either way."
    )
    width_shift: float = Field(
        0.0, ge=0.0, lt=1.0, description="Shift left-right by up to this fraction of the width."
    )
    height_shift: float = Field(
        0.0, ge=0.0, lt=1.0, description="Shift up-down by up to this fraction of the height."
    )
    zoom: float = Field(0.0, ge=0.0, lt=1.0, description="Zoom in or out by up to this fraction.")
    random_resized_crop: Annotated[RandomResizedCropSpec | None, BeforeValidator(_switch)] = Field(
        None, description="A crop of random area and shape, resized (torchvision)."
    )
    random_crop: RandomCropSpec | None = Field(
        None, description="Pad with zeros and crop back at a random place (the CIFAR crop)."
    )
    rand_augment: Annotated[RandAugmentSpec | None, BeforeValidator(_switch)] = Field(
        None, description="timm's RandAugment."
    )
    trivial_augment: bool = Field(
        False, description="torchvision's TrivialAugmentWide: one op of random strength."
    )
    color_jitter: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Brightness, contrast and saturation each scaled by a factor in "
        "[1 - x, 1 + x], in random order (torchvision's ColorJitter(x, x, x)).",
    )
    random_erasing: Annotated[RandomErasingSpec | None, BeforeValidator(_switch)] = Field(
        None, description="Replace a random rectangle with noise (timm's RandomErasing)."
    )
    mixup: float = Field(
        0.0, ge=0.0, le=100.0, description="Alpha of mixup's Beta(alpha, alpha); 0 is off."
    )
    cutmix: float = Field(
        0.0, ge=0.0, le=100.0, description="Alpha of cutmix's Beta(alpha, alpha); 0 is off."
    )
    mix_probability: float = Field(
        1.0, ge=0.0, le=1.0, description="Chance a batch is mixed at all (timm's mixup_prob)."
    )
    mix_switch_probability: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="With both on, chance of cutmix rather than mixup (timm's switch_prob).",
    )

    @model_validator(mode="after")
    def _one_policy(self) -> "AugmentSpec":
        if self.rand_augment is not None and self.trivial_augment:
            raise ValueError(
                "give one of rand_augment and trivial_augment: both are a policy of random "
                "ops and would stack. Remove one."
            )
        return self

    @property
    def mixes(self) -> bool:
        """Whether batches are mixed (mixup or cutmix), so labels become soft targets."""
        return self.mixup > 0.0 or self.cutmix > 0.0


class EvalSpec(BaseModel):
    """How an image is fitted to the input size by `evaluate`, `predict` and `export`.

    `squash` resizes the whole image to the input size, aspect ratio not kept
    (Keras' `load_img` and keras.applications' examples; the default, so a
    recipe that says nothing evaluates as before). `shorter_side` is
    torchvision's and timm's rule: resize the shorter side to
    `int(size / crop_pct)` keeping the aspect ratio (224 / 0.875 = 256), then
    take the centre `size x size`.
    """

    model_config = STRICT

    resize: Literal["squash", "shorter_side"] = Field(
        "squash",
        description="squash: the whole image to the input size; shorter_side: the shorter "
        "side to size / crop_pct, aspect kept, then the centre crop (torchvision, timm).",
    )
    crop_pct: float = Field(
        0.875,
        ge=0.1,
        le=1.0,
        description="With shorter_side: the fraction of the resized image the crop keeps "
        "(torchvision: 224 / 256 = 0.875).",
    )
    interpolation: Literal["bilinear", "bicubic", "nearest"] = Field(
        "bilinear", description="Resampling filter; antialiased when shrinking."
    )
    tta: Literal["none", "flip"] = Field(
        "none",
        description="Test-time augmentation: flip averages the softmax of the image and its "
        "left-right mirror.",
    )

    @model_validator(mode="after")
    def _crop_needs_shorter_side(self) -> "EvalSpec":
        # Only a crop_pct other than the default: a run's recipe.yaml writes every key.
        if self.resize == "squash" and self.crop_pct != 0.875:
            raise ValueError(
                "crop_pct applies to resize: shorter_side (squash keeps the whole image). "
                f"Received: resize='squash', crop_pct={self.crop_pct}. Add resize: "
                "shorter_side, or remove crop_pct."
            )
        return self

    def resize_size(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """(height, width) the image is resized to cover before the centre crop.

        torchvision's `Resize(int(size / crop_pct))` + `CenterCrop(size)`:
        224 at 0.875 -> 256, 224 at 224 / 232 -> 232. The 1e-6 keeps a
        ratio written as a fraction (224 / 232) from flooring to 231.
        Squash resizes to `image_size` itself.
        """
        if self.resize == "squash":
            return (image_size[0], image_size[1])
        return tuple(int(side / self.crop_pct + 1e-6) for side in image_size)

    def describe(self, image_size: "tuple[int, int] | None" = None) -> str:
        """One line: "shorter side to 256 (224 / 0.875), centre crop 224x224, bilinear"."""
        if self.resize == "squash":
            what = "whole image resized to the input size (squash, aspect not kept)"
            if image_size is not None:
                what = f"whole image resized to {image_size[0]}x{image_size[1]} (squash)"
        elif image_size is not None:
            cover = self.resize_size(image_size)
            what = (
                f"shorter side to {min(cover)} ({min(image_size)} / {self.crop_pct:g}), "
                f"centre crop {image_size[0]}x{image_size[1]}"
            )
        else:
            what = f"shorter side to size / {self.crop_pct:g}, centre crop"
        flip = ", test-time flip (mean of the two softmaxes)" if self.tta == "flip" else ""
        return f"{what}, {self.interpolation}{flip}"


class SGDSpec(BaseModel):
    """Stochastic gradient descent with momentum (He et al. 2015: 0.1, momentum 0.9, decay 1e-4).

    `weight_decay` is the papers' and PyTorch's: an L2 term `weight_decay * w`
    added to the gradient before momentum, so a paper's number means the same here.
    """

    model_config = STRICT

    name: Literal["sgd"]
    learning_rate: LearningRate = 0.01
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    nesterov: bool = False
    weight_decay: WeightDecay = Field(
        0.0, description="L2 added to the gradient before momentum, as torch.optim.SGD."
    )
    clipnorm: ClipNorm | None = None


class AdamSpec(BaseModel):
    """Adam; `adamw` is Adam with decoupled weight decay (Keras' AdamW defaults).

    For `adam`, `weight_decay` is an L2 term added to the gradient (as
    torch.optim.Adam); for `adamw` it is decoupled, `w -= learning_rate *
    weight_decay * w` each step (Loshchilov & Hutter 2019, torch.optim.AdamW).
    """

    model_config = STRICT

    name: Literal["adam", "adamw"]
    learning_rate: LearningRate = 0.001
    beta_1: float = Field(0.9, ge=0.0, lt=1.0)
    beta_2: float = Field(0.999, ge=0.0, lt=1.0)
    epsilon: float = Field(1e-7, gt=0.0, le=1.0)
    weight_decay: WeightDecay | None = Field(
        None,
        description="adam: L2 added to the gradient, default 0; adamw: decoupled, default 0.004.",
    )
    clipnorm: ClipNorm | None = None


class RMSpropSpec(BaseModel):
    """RMSprop (Szegedy et al. 2016 trained Inception-ResNet-V2 with it).

    `weight_decay` is an L2 term added to the gradient, as torch.optim.RMSprop.
    """

    model_config = STRICT

    name: Literal["rmsprop"]
    learning_rate: LearningRate = 0.001
    rho: float = Field(0.9, ge=0.0, lt=1.0)
    momentum: float = Field(0.0, ge=0.0, lt=1.0)
    epsilon: float = Field(1e-7, gt=0.0, le=1.0)
    weight_decay: WeightDecay = Field(0.0, description="L2 added to the gradient.")
    clipnorm: ClipNorm | None = None


class LambSpec(BaseModel):
    """LAMB (You et al. 2020), as timm's Lamb: Adam's step plus decoupled decay, per-layer scaled.

    Each variable's step `m_hat / (sqrt(v_hat) + epsilon) + weight_decay * w`
    is scaled by the trust ratio `|w| / |step|`. Variables without weight
    decay take Adam's step unscaled (timm's default). Wightman et al. 2021
    (ResNet strikes back, A1): learning_rate 0.008, weight_decay 0.02.
    """

    model_config = STRICT

    name: Literal["lamb"]
    learning_rate: LearningRate = 0.001
    beta_1: float = Field(0.9, ge=0.0, lt=1.0)
    beta_2: float = Field(0.999, ge=0.0, lt=1.0)
    epsilon: float = Field(1e-6, gt=0.0, le=1.0)
    weight_decay: WeightDecay = Field(
        0.01, description="Decoupled, inside the trust ratio (timm's Lamb default 0.01)."
    )
    clipnorm: ClipNorm | None = None


class EarlyStoppingSpec(BaseModel):
    """Stop once the monitored validation metric has not improved for `patience` epochs (Keras)."""

    model_config = STRICT

    patience: int = Field(ge=1, le=100_000, description="Epochs without improvement to wait.")
    min_delta: float = Field(
        0.0, ge=0.0, description="A change smaller than this is no improvement."
    )
    monitor: Literal["val_loss", "val_accuracy"] = Field(
        "val_loss", description="What must improve: val_loss down, val_accuracy up."
    )


Optimizer = Annotated[
    SGDSpec | AdamSpec | RMSpropSpec | LambSpec,
    BeforeValidator(_named),
    Field(discriminator="name"),
]


class ConstantSchedule(BaseModel):
    """The optimizer's learning rate throughout, after an optional linear warm-up."""

    model_config = STRICT

    name: Literal["constant"]
    warmup_epochs: int = Field(0, ge=0, le=1000, description="Epochs of linear warm-up from 0.")


class CosineSchedule(BaseModel):
    """Cosine decay from the learning rate to `final_fraction` of it at the last epoch."""

    model_config = STRICT

    name: Literal["cosine"]
    warmup_epochs: int = Field(0, ge=0, le=1000, description="Epochs of linear warm-up from 0.")
    final_fraction: float = Field(
        0.0, ge=0.0, le=1.0, description="Final learning rate as a fraction of the first."
    )


class StepSchedule(BaseModel):
    """Multiply the learning rate by `factor` at each milestone epoch (He et al. 2015: /10)."""

    model_config = STRICT

    name: Literal["step"]
    milestones: Annotated[
        list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=100)
    ] = Field(description="Epochs (1-based) after which the rate drops, increasing, e.g. [30, 60].")
    factor: float = Field(0.1, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _increasing(self) -> "StepSchedule":
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:])):
            raise ValueError(f"milestones must be strictly increasing. Received: {self.milestones}")
        return self


Schedule = Annotated[
    ConstantSchedule | CosineSchedule | StepSchedule,
    BeforeValidator(_named),
    Field(discriminator="name"),
]


class TrainSpec(BaseModel):
    """A recipe's `train:` section: how to train it on a folder of images."""

    model_config = STRICT

    image_size: (
        Annotated[int, Field(ge=8, le=8192)]
        | Annotated[list[Annotated[int, Field(ge=8, le=8192)]], Field(min_length=2, max_length=2)]
        | None
    ) = Field(
        None,
        description="Side, or [height, width], images are resized to; "
        "default the recipe's input_shape.",
    )
    batch_size: int = Field(
        32, ge=1, le=65_536, description="Images per step, over all devices together."
    )
    epochs: int = Field(10, ge=1, le=100_000)
    val_split: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Fraction of each class held out when no validation folder is given.",
    )
    seed: int = Field(0, ge=0, description="Seed of the split, the shuffle and the augmentation.")
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    eval: EvalSpec = Field(
        default_factory=EvalSpec,
        description="How evaluate, predict and export fit an image to the input size.",
    )
    optimizer: Optimizer = Field(default_factory=lambda: AdamSpec(name="adam"))
    schedule: Schedule = Field(default_factory=lambda: ConstantSchedule(name="constant"))
    weight_decay_on_norm_and_bias: bool = Field(
        False,
        description="Decay BN's gamma and beta and every bias too (every 1-D variable); "
        "false leaves them out, as timm's filter_bias_and_bn.",
    )
    global_clipnorm: ClipNorm | None = Field(
        None,
        description="Scale all gradients together so their global norm is at most this.",
    )
    gradient_accumulation: int = Field(
        1,
        ge=1,
        le=1024,
        description="Average the gradients of this many batches before each optimizer step.",
    )
    ema: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Keep an exponential moving average of the weights and BN's statistics "
        "with this decay per optimizer step (timm's model_ema_decay, e.g. 0.9998); validation, "
        "the best model and model.keras use it.",
    )
    loss: Literal["categorical", "bce"] = Field(
        "categorical",
        description="categorical: softmax cross-entropy; bce: binary cross-entropy over "
        "one-hot targets with sigmoid scores (timm's BinaryCrossEntropy, ResNet strikes back).",
    )
    class_weight: ClassWeight | None = Field(
        None,
        description="Weigh each image's loss by its class: balanced (n_samples / (n_classes * "
        "count), as scikit-learn), or {class name: weight}, classes not named weighing 1.",
    )
    early_stopping: EarlyStoppingSpec | None = Field(
        None, description="Stop early when validation stops improving; none trains every epoch."
    )
    label_smoothing: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Targets smoothed towards 1/classes; with bce as timm: "
        "smoothing/classes off, 1 - smoothing + smoothing/classes on.",
    )
    mixed_precision: bool | Literal["float16", "bfloat16"] = Field(
        False,
        description="true: float16 on a GPU, bfloat16 on a CPU with bfloat16 hardware, "
        "float32 on other CPUs "
        "(emulated bfloat16 is slower); or name the type. Weights stay float32.",
    )
    xla: bool | Literal["auto"] = Field(
        "auto", description="Compile steps with XLA; auto: on GPUs, off on CPUs (Keras' rule)."
    )
    weights: str | None = Field(
        None,
        description="Start from these weights (.keras or .weights.h5); "
        "layers that do not fit stay random.",
    )
    freeze: list[str] = Field(
        default_factory=list, description="Stage or layer names kept fixed, e.g. [stem, conv2]."
    )
    skip_bad_images: bool = Field(
        False, description="Leave out unreadable images instead of stopping."
    )

    @model_validator(mode="after")
    def _schedule_fits(self) -> "TrainSpec":
        warmup = getattr(self.schedule, "warmup_epochs", 0)
        if warmup >= self.epochs:
            raise ValueError(
                f"schedule.warmup_epochs ({warmup}) must be less than epochs ({self.epochs})."
            )
        return self

    @model_validator(mode="after")
    def _one_clip(self) -> "TrainSpec":
        if self.global_clipnorm is not None and self.optimizer.clipnorm is not None:
            raise ValueError(
                "give one of optimizer.clipnorm (each gradient on its own) and global_clipnorm "
                f"(all together). Received: optimizer.clipnorm={self.optimizer.clipnorm}, "
                f"global_clipnorm={self.global_clipnorm}. Remove one."
            )
        return self

    @property
    def image_hw(self) -> tuple[int, int] | None:
        """`image_size` as (height, width), or None for the recipe's."""
        if self.image_size is None:
            return None
        if isinstance(self.image_size, int):
            return (self.image_size, self.image_size)
        return (self.image_size[0], self.image_size[1])
