"""Our recipe-built networks against keras.applications, measured the same way.

Both sides get identical inputs, the same `compile()` and the same calls
(`predict_on_batch`, `train_on_batch`), alternating side by side in one
process; what differs is only who built the model.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable

import keras
import numpy as np
from bench_stats import (
    Samples,
    alternate,
    peak_rss_mib,
    ratios,
    reset_peak_rss,
    rss_mib,
    timed,
    timed_cpu,
)

OURS, KERAS = "ours", "keras"

# A recipe small enough for a plumbing check in seconds.
TINY_RECIPE = {
    "name": "tiny",
    "input_shape": [32, 32, 3],
    "stem": {"block": "cifar_stem", "filters": 8},
    "stages": [
        {"name": "layer1", "block": "res_block", "filters": 8, "repeats": 1, "strides": 1},
        {"name": "layer2", "block": "res_block", "filters": 16, "repeats": 1, "strides": 2},
    ],
    "head": {"block": "classifier", "num_classes": 10},
}


def _ours(recipe) -> Callable[[], keras.Model]:
    def make():
        from registry import build

        return build(recipe)

    return make


def _tiny_reference() -> keras.Model:
    """A hand-written network of about the tiny recipe's size: plumbing only."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="tiny_reference")


@dataclasses.dataclass(frozen=True)
class Pair:
    """A network of ours and its keras.applications counterpart.

    Args:
        name: str. The name on the command line (`--models resnet50`).
        label: str. The name in the tables.
        ours: callable returning our built model.
        reference: callable returning the reference model, or None where
            keras.applications has no such network (ResNet-18).
        input_shape: tuple of 3 ints. Height, width, channels.
        num_classes: int. Classes of both heads.
        plumbing: bool. A check of the benchmark itself, not a comparison:
            left out of the verdict.
    """

    name: str
    label: str
    ours: Callable[[], keras.Model]
    reference: Callable[[], keras.Model] | None
    input_shape: tuple[int, int, int]
    num_classes: int = 1000
    plumbing: bool = False

    @property
    def sides(self) -> list[str]:
        return [OURS, KERAS] if self.reference is not None else [OURS]

    def make(self, side: str) -> keras.Model:
        return self.ours() if side == OURS else self.reference()


def _keras_pair(name: str, title: str, application: str, shape: tuple) -> Pair:
    """Our recipe against the keras.applications model of that name, built without weights."""
    return Pair(
        name,
        title,
        _ours(name),
        lambda: getattr(keras.applications, application)(weights=None),
        shape,
    )


PAIRS = {
    pair.name: pair
    for pair in (
        _keras_pair("resnet50", "ResNet-50", "ResNet50", (224, 224, 3)),
        _keras_pair("resnet152", "ResNet-152", "ResNet152", (224, 224, 3)),
        _keras_pair(
            "inception_resnet_v2", "Inception-ResNet-V2", "InceptionResNetV2", (299, 299, 3)
        ),
        Pair("resnet18", "ResNet-18", _ours("resnet18"), None, (224, 224, 3)),
        Pair(
            "tiny",
            "tiny (plumbing check)",
            _ours(TINY_RECIPE),
            _tiny_reference,
            (32, 32, 3),
            10,
            True,
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class Setting:
    """A speed option as users set it: precision policy and XLA.

    Args:
        policy: str. Keras dtype policy: "float32", "mixed_bfloat16" or
            "mixed_float16".
        xla: bool. `compile(jit_compile=...)`.
    """

    policy: str = "float32"
    xla: bool = False

    @property
    def label(self) -> str:
        return f"{self.policy}{', XLA' if self.xla else ''}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much to measure.

    Args:
        batch: int. Images per call.
        repeats: int. Timed pairs for steady-state inference and training.
        builds: int. Timed pairs of construction + first calls, after one
            untimed warm-up pair.
        infer_calls: int. `predict_on_batch` calls per timed inference sample.
        train_steps: int. `train_on_batch` calls per timed training sample.
        graphs: bool. Count op types in the traced graphs (transposes, pads).
        memory: int. Alternating pairs of peak-RSS probes, each a fresh
            process per side; 0 for none.
    """

    batch: int = 16
    repeats: int = 10
    builds: int = 2
    infer_calls: int = 2
    train_steps: int = 1
    graphs: bool = True
    memory: int = 2


@dataclasses.dataclass
class Result:
    """Everything measured for one pair under one setting; keys are sides."""

    pair: Pair
    setting: Setting
    plan: Plan
    construct: dict[str, Samples]
    first_predict: dict[str, Samples]
    first_train: dict[str, Samples]
    infer: dict[str, Samples]
    train: dict[str, Samples]
    infer_cpu: dict[str, Samples]
    train_cpu: dict[str, Samples]
    memory: dict[str, Samples]
    params: dict[str, int]
    graph: dict[str, dict[str, int]]

    def ratio(self, quantity: str) -> Samples | None:
        """Per-pair ours / keras of `quantity` ("infer", "construct", ...)."""
        values = getattr(self, quantity)
        if KERAS not in values or not values[OURS].values:
            return None
        return ratios(values[OURS], values[KERAS])


def compile_for_bench(model: keras.Model, setting: Setting) -> None:
    """The same compile() for both sides: plain SGD, sparse cross-entropy."""
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="sparse_categorical_crossentropy",
        jit_compile=setting.xla,
    )


def batch_of(pair: Pair, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random images and labels, the same for both sides."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (batch, *pair.input_shape)).astype("float32")
    y = rng.integers(0, pair.num_classes, batch).astype("int32")
    return x, y


def measure(pair: Pair, setting: Setting, plan: Plan, log: Callable[[str], None] = print) -> Result:
    """Measures both sides of `pair` under `setting`, alternating; see the module docstring."""
    keras.mixed_precision.set_global_policy(setting.policy)
    try:
        return _measure(pair, setting, plan, log)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _measure(pair: Pair, setting: Setting, plan: Plan, log: Callable[[str], None]) -> Result:
    sides = pair.sides
    x, y = batch_of(pair, plan.batch)

    def per_side(unit: str) -> dict[str, Samples]:
        return {side: Samples(unit=unit) for side in sides}

    construct, first_predict, first_train = per_side("s"), per_side("s"), per_side("s")
    models: dict[str, keras.Model | None] = dict.fromkeys(sides)

    # Pair 0 is an untimed warm-up: the first model built in a process pays
    # for lazy imports, oneDNN kernel generation and tracing machinery.
    for i, order in enumerate(alternate(sides, plan.builds + 1)):
        for side in order:
            models[side] = None
            gc.collect()
            holder = {}
            build_s = timed(lambda: holder.setdefault("model", pair.make(side)))
            model = models[side] = holder["model"]
            compile_for_bench(model, setting)
            predict_s = timed(lambda: model.predict_on_batch(x))
            train_s = timed(lambda: model.train_on_batch(x, y))
            if i > 0:
                construct[side].add(build_s)
                first_predict[side].add(predict_s)
                first_train[side].add(train_s)
            log(
                f"  {pair.label} [{setting.label}] {side:5s} build {build_s:6.2f} s, "
                f"first predict {predict_s:6.2f} s, first train step {train_s:6.2f} s"
                + ("" if i > 0 else "  (warm-up, not counted)")
            )

    infer, train = per_side("img/s"), per_side("img/s")
    infer_cpu, train_cpu = per_side("img/cpu-s"), per_side("img/cpu-s")
    for side in sides:  # one more untimed call each: nothing left to initialize
        models[side].predict_on_batch(x)
        models[side].train_on_batch(x, y)
    for order in alternate(sides, plan.repeats):
        for side in order:
            model = models[side]
            wall, cpu = timed_cpu(
                lambda: [model.predict_on_batch(x) for _ in range(plan.infer_calls)]
            )
            infer[side].add(plan.batch * plan.infer_calls / wall)
            infer_cpu[side].add(plan.batch * plan.infer_calls / cpu)
    log(f"  {pair.label} [{setting.label}] inference img/s: " + _by_side(infer))
    for order in alternate(sides, plan.repeats):
        for side in order:
            model = models[side]
            wall, cpu = timed_cpu(
                lambda: [model.train_on_batch(x, y) for _ in range(plan.train_steps)]
            )
            train[side].add(plan.batch * plan.train_steps / wall)
            train_cpu[side].add(plan.batch * plan.train_steps / cpu)
    log(f"  {pair.label} [{setting.label}] training img/s:  " + _by_side(train))

    params = {side: int(models[side].count_params()) for side in sides}
    graph = {}
    if plan.graphs:
        graph = {side: graph_ops(models[side], pair.input_shape, setting) for side in sides}
        log(f"  {pair.label} [{setting.label}] graph ops: {json.dumps(graph)}")
    models.clear()
    gc.collect()

    memory = per_side("MiB")
    if plan.memory:
        for order in alternate(sides, plan.memory):
            for side in order:
                memory[side].add(peak_memory_in_subprocess(pair.name, side, setting, plan.batch))
        log(f"  {pair.label} [{setting.label}] peak RSS growth MiB: " + _by_side(memory))

    return Result(
        pair,
        setting,
        plan,
        construct,
        first_predict,
        first_train,
        infer,
        train,
        infer_cpu,
        train_cpu,
        memory,
        params,
        graph,
    )


def _by_side(values: dict[str, Samples]) -> str:
    return ", ".join(f"{side} {samples.format(1)}" for side, samples in values.items())


# --- graph inspection ----------------------------------------------------------

COUNTED_OPS = ("Transpose", "Pad", "Cast", "Conv2D")


def graph_ops(model: keras.Model, input_shape, setting: Setting) -> dict[str, int]:
    """Op counts of the traced inference and gradient graphs.

    A channels-last network on a channels-last backend needs no Transpose;
    Pad and Cast counts show extra work one side does and the other not.
    """
    import tensorflow as tf

    spec = tf.TensorSpec((None, *input_shape), tf.float32)

    @tf.function
    def infer(images):
        return model(images, training=False)

    @tf.function
    def gradients(images):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.cast(model(images, training=True), tf.float32))
        return tape.gradient(loss, model.trainable_variables)

    counts: dict[str, int] = {}
    for kind, fn in (("infer", infer), ("grad", gradients)):
        types = [op.type for op in fn.get_concrete_function(spec).graph.get_operations()]
        counts[f"{kind}_ops"] = len(types)
        for op in COUNTED_OPS:
            counts[f"{kind}_{op}"] = types.count(op)
    return counts


# --- memory, in a fresh process per side ---------------------------------------


def peak_memory_in_subprocess(pair_name: str, side: str, setting: Setting, batch: int) -> float:
    """Peak RSS growth (MiB) of build + first predict + two train steps.

    In a process of its own, so that memory freed by one side and kept by
    the allocator cannot hide the other side's growth.
    """
    command = [
        sys.executable,
        os.path.abspath(__file__),
        pair_name,
        side,
        setting.policy,
        "1" if setting.xla else "0",
        str(batch),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"The memory probe for {pair_name} ({side}) failed with exit code "
            f"{done.returncode}:\n{done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])["growth_mib"]


def _memory_probe(pair_name: str, side: str, policy: str, xla: str, batch: str) -> None:
    pair = PAIRS[pair_name]
    setting = Setting(policy, xla == "1")
    keras.mixed_precision.set_global_policy(setting.policy)
    x, y = batch_of(pair, int(batch))
    import registry  # noqa: F401  (imports counted in the baseline, not the growth)

    gc.collect()
    baseline = rss_mib()
    reset_peak_rss()
    model = pair.make(side)
    compile_for_bench(model, setting)
    model.predict_on_batch(x)
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    peak = peak_rss_mib()
    print(json.dumps({"baseline_mib": baseline, "peak_mib": peak, "growth_mib": peak - baseline}))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _memory_probe(*sys.argv[1:])
