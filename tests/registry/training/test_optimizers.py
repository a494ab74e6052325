"""The train section's optimizers: weight decay as the papers and torch.optim mean it.

Checked step by step against torch.optim (and timm's Lamb, written out in
numpy below); which variables decay; global clipping; gradient
accumulation; and a save and safe reload that goes on exactly. Runs on
every Keras backend (the backend suites run this file).
"""

import keras
import numpy as np
import pytest
from helpers import tiny_recipe

from registry.recipe.train_spec import TrainSpec
from registry.training import optim
from registry.training.optim import make_optimizer

STEPS = 3


def optimizer_of(steps_per_epoch=10, **train):
    return make_optimizer(TrainSpec.model_validate(train), steps_per_epoch=steps_per_epoch)


def values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def start_and_gradients():
    """A 4x3 kernel and a bias of 3, and STEPS gradients for each."""
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
    grads = [[rng.normal(size=w.shape).astype("float32") for w in start] for _ in range(STEPS)]
    return start, grads


def keras_steps(optimizer, start, grads):
    variables = [keras.Variable(w) for w in start]
    for step in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in step], variables)
    return values(variables)


def torch_steps(make, start, grads):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in start]
    optimizer = make(params)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    return [p.detach().numpy() for p in params]


# Epsilons are tiny: Keras and torch place epsilon differently (Keras' Adam
# adds it to sqrt(v) before the bias correction, its RMSprop inside the
# square root); weight decay, momentum and the betas are what is compared.
TORCH_CASES = {
    "sgd": (
        {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        lambda torch: lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    ),
    "sgd_nesterov": (
        {
            "name": "sgd",
            "learning_rate": 0.1,
            "momentum": 0.9,
            "nesterov": True,
            "weight_decay": 0.05,
        },
        lambda torch: (
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)
        ),
    ),
    "adam": (
        {"name": "adam", "learning_rate": 0.01, "epsilon": 1e-10, "weight_decay": 0.1},
        lambda torch: lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-10, weight_decay=0.1),
    ),
    "adamw": (
        {"name": "adamw", "learning_rate": 0.01, "epsilon": 1e-10, "weight_decay": 0.1},
        lambda torch: lambda p: torch.optim.AdamW(p, lr=0.01, eps=1e-10, weight_decay=0.1),
    ),
    "rmsprop": (
        {
            "name": "rmsprop",
            "learning_rate": 0.01,
            "rho": 0.9,
            "momentum": 0.9,
            "epsilon": 1e-12,
            "weight_decay": 0.1,
        },
        lambda torch: (
            lambda p: torch.optim.RMSprop(
                p, lr=0.01, alpha=0.9, momentum=0.9, eps=1e-12, weight_decay=0.1
            )
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_each_optimizer_steps_as_torch_optim_with_weight_decay_and_momentum(case):
    torch = pytest.importorskip("torch")
    section, make = TORCH_CASES[case]
    start, grads = start_and_gradients()
    # torch decays every parameter: so does the recipe that says so.
    ours = keras_steps(
        optimizer_of(optimizer=section, weight_decay_on_norm_and_bias=True), start, grads
    )
    theirs = torch_steps(make(torch), start, grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def timm_lamb_steps(start, grads, lr, weight_decay, beta_1=0.9, beta_2=0.999, eps=1e-6):
    """timm.optim.Lamb's step (grad_averaging, bias_correction, no trust_clip), in numpy."""
    params = [w.astype("float64") for w in start]
    m = [np.zeros_like(w) for w in params]
    v = [np.zeros_like(w) for w in params]
    for t, step in enumerate(grads, start=1):
        for i, g in enumerate(step):
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g * g
            denom = np.sqrt(v[i]) / np.sqrt(1 - beta_2**t) + eps
            update = (m[i] / (1 - beta_1**t)) / denom
            if weight_decay:
                update = update + weight_decay * params[i]
                w_norm, u_norm = np.linalg.norm(params[i]), np.linalg.norm(update)
                update = update * (w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0)
            params[i] = params[i] - lr * update
    return params


def test_lamb_steps_as_timm_with_decay_inside_the_trust_ratio():
    start, grads = start_and_gradients()
    section = {"name": "lamb", "learning_rate": 0.01, "weight_decay": 0.02}
    ours = keras_steps(
        optimizer_of(optimizer=section, weight_decay_on_norm_and_bias=True), start, grads
    )
    for a, b in zip(ours, timm_lamb_steps(start, grads, lr=0.01, weight_decay=0.02)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_lamb_without_decay_on_a_bias_takes_adams_step_unscaled():
    start, grads = start_and_gradients()
    section = {"name": "lamb", "learning_rate": 0.01, "weight_decay": 0.02}
    kernel, bias = keras_steps(optimizer_of(optimizer=section), start, grads)
    _, timm_bias = timm_lamb_steps(start, grads, lr=0.01, weight_decay=0.0)
    timm_kernel, _ = timm_lamb_steps(start, grads, lr=0.01, weight_decay=0.02)
    np.testing.assert_allclose(bias, timm_bias, atol=1e-6, rtol=0)
    np.testing.assert_allclose(kernel, timm_kernel, atol=1e-6, rtol=0)


def test_sgd_decay_is_the_papers_ten_times_keras_decoupled_one_at_momentum_0_9():
    """The reason for it all: Keras' decoupled decay of the same number is far weaker."""
    w = np.ones((2, 2), "float32")
    zero = [[np.zeros_like(w)] for _ in range(50)]
    section = {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 1e-3}
    ours = keras_steps(optimizer_of(optimizer=section), [w], zero)[0]
    keras_own = keras_steps(
        keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=1e-3), [w], zero
    )[0]
    shrink_ours, shrink_keras = 1 - ours[0, 0], 1 - keras_own[0, 0]
    assert 7 < shrink_ours / shrink_keras < 10.5


def small_network():
    """Conv (with bias) -> BN -> dense (with bias): kernels, biases and BN's gamma and beta."""
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, name="dense")(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize(
    "section",
    [
        {"name": "sgd", "learning_rate": 0.1, "weight_decay": 0.1},
        {"name": "adam", "learning_rate": 0.1, "weight_decay": 0.1},
        {"name": "rmsprop", "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1},
        {"name": "adamw", "learning_rate": 0.1, "weight_decay": 0.1},
        {"name": "lamb", "learning_rate": 0.1, "weight_decay": 0.1},
    ],
    ids=lambda section: section["name"],
)
def test_a_decay_only_step_leaves_norm_and_bias_variables_unchanged(section):
    model = small_network()
    # Gamma starts at 1 and beta at 0; make them all worth decaying.
    for variable in model.trainable_variables:
        variable.assign(keras.ops.ones(variable.shape))
    optimizer = optimizer_of(optimizer=section)
    before = values(model.trainable_variables)
    zero = [keras.ops.zeros(v.shape) for v in model.trainable_variables]
    optimizer.apply(zero, model.trainable_variables)
    for variable, old, new in zip(
        model.trainable_variables, before, values(model.trainable_variables)
    ):
        if len(variable.shape) <= 1:  # BN's gamma and beta, the biases
            np.testing.assert_array_equal(new, old, err_msg=variable.path)
        else:
            assert np.all(new < old), variable.path
    names = sorted(v.path for v in model.trainable_variables if len(v.shape) <= 1)
    assert names == ["bn/beta", "bn/gamma", "conv/bias", "dense/bias"]


def test_decay_on_norm_and_bias_decays_them_too():
    model = small_network()
    optimizer = optimizer_of(
        optimizer={"name": "sgd", "weight_decay": 0.1}, weight_decay_on_norm_and_bias=True
    )
    gamma = model.get_layer("bn").gamma
    optimizer.apply(
        [keras.ops.zeros(v.shape) for v in model.trainable_variables], model.trainable_variables
    )
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gamma), 1 - 0.01 * 0.1, rtol=1e-6)


def test_the_applied_global_norm_is_at_most_the_clip():
    start, grads = start_and_gradients()
    big = [[10 * g for g in grads[0]]]
    section = {"name": "sgd", "learning_rate": 1.0, "momentum": 0.0}
    moved = keras_steps(optimizer_of(optimizer=section, global_clipnorm=0.5), start, big)
    norm = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(moved, start)))
    assert norm == pytest.approx(0.5, rel=1e-5)
    small = [[1e-3 * g for g in grads[0]]]  # under the clip: untouched
    moved = keras_steps(optimizer_of(optimizer=section, global_clipnorm=0.5), start, small)
    for a, b, g in zip(moved, start, small[0]):
        np.testing.assert_allclose(b - a, g, atol=1e-7, rtol=0)


def test_clipnorm_and_global_clipnorm_together_are_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="give one of optimizer.clipnorm .* Remove one."):
        TrainSpec.model_validate(
            {"optimizer": {"name": "sgd", "clipnorm": 1.0}, "global_clipnorm": 1.0}
        )


def dense_model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5,))
    x = keras.layers.Dense(4, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def compiled(accumulation, steps_per_epoch=1, **train):
    model = dense_model()
    optimizer = optimizer_of(
        steps_per_epoch=steps_per_epoch,
        optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        gradient_accumulation=accumulation,
        global_clipnorm=1.0,
        **train,
    )
    model.compile(optimizer=optimizer, loss=keras.losses.MeanSquaredError())
    return model


def fit_weights(batch_size, accumulation, data):
    model = compiled(accumulation)
    x, y = data
    model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return values(model.trainable_variables)


def regression_data(n=256):
    rng = np.random.default_rng(2)
    return rng.normal(size=(n, 5)).astype("float32"), rng.normal(size=(n, 3)).astype("float32")


def test_four_accumulated_batches_of_32_are_one_batch_of_128():
    data = regression_data(256)  # two optimizer steps: momentum and decay carry over
    accumulated = fit_weights(32, 4, data)
    whole = fit_weights(128, 1, data)
    for a, b in zip(accumulated, whole):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


def test_the_schedule_counts_optimizer_steps_under_accumulation():
    spec = TrainSpec.model_validate(
        {"epochs": 4, "gradient_accumulation": 4, "schedule": {"name": "step", "milestones": [2]}}
    )
    schedule = optim.learning_rate(spec, steps_per_epoch=8)  # 2 optimizer steps per epoch
    rate = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (3, 4)]
    assert rate == pytest.approx([0.001, 0.0001])


def test_a_reloaded_optimizer_goes_on_exactly_mid_accumulation(tmp_path):
    """As a run resumes from last.keras, saved at an epoch's end (before fit copies the EMA in)."""
    path = tmp_path / "last.keras"
    x, y = regression_data(352)
    first = compiled(4, ema=0.9)
    save = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: first.save(path))
    # 7 batches: one step taken, the EMA started, the accumulators hold a part-step.
    first.fit(x[:224], y[:224], batch_size=32, shuffle=False, verbose=0, callbacks=[save])
    loaded = keras.saving.load_model(path, safe_mode=True)
    optimizer = loaded.optimizer
    assert type(optimizer) is optim.SGD
    assert optimizer.weight_decay == 0.01 and optimizer.decay_norm_and_bias is False
    assert optimizer.gradient_accumulation_steps == 4 and optimizer.global_clipnorm == 1.0
    assert optimizer.use_ema and optimizer.ema_momentum == pytest.approx(0.9)
    loaded.fit(x[224:], y[224:], batch_size=32, shuffle=False, verbose=0)
    # Each model is fit once: on JAX, Keras' end-of-fit EMA copy leaves a
    # weight and its average sharing a buffer, which a second fit refuses.
    whole = compiled(4, ema=0.9)
    whole.fit(x, y, batch_size=32, shuffle=False, verbose=0)
    for a, b in zip(values(loaded.trainable_variables), values(whole.trainable_variables)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    for a, b in zip(values(optimizer.variables), values(whole.optimizer.variables)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "lamb"])
def test_every_optimizer_round_trips_through_its_config(name):
    optimizer = optimizer_of(
        optimizer={"name": name, "weight_decay": 0.03}, weight_decay_on_norm_and_bias=True
    )
    config = keras.saving.serialize_keras_object(optimizer)
    again = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert type(again) is type(optimizer)
    assert again.weight_decay == pytest.approx(0.03) and again.decay_norm_and_bias is True


def test_the_recipe_reference_documents_lamb_and_the_decay_rules():
    from pathlib import Path

    from registry.recipe.train_spec import LambSpec

    page = Path(__file__).resolve().parents[3] / "docs" / "reference" / "recipes.md"
    section = page.read_text(encoding="utf-8").split("## The `train:` section")[1].split("\n## ")[0]
    assert all(f"`{key}`" in section for key in LambSpec.model_fields if key != "name")
    for words in ("`lamb`", "### Weight decay", "torch.optim.SGD", "`safe_mode=True`"):
        assert words in section


RECIPE = tiny_recipe(input_shape=[32, 32, 3])


@pytest.mark.parametrize(
    "train, message",
    [
        (
            {"gradient_accumulation": 0},
            "train.gradient_accumulation: must be at least 1. Received: 0.",
        ),
        ({"global_clipnorm": 0}, "train.global_clipnorm: must be greater than 0"),
        (
            {"optimizer": {"name": "lamb", "weight_decay": 2}},
            "train.optimizer.weight_decay: must be at most 1.0. Received: 2.",
        ),
        (
            {"optimizer": {"name": "sgd", "clipnorm": 1.0}, "global_clipnorm": 1.0},
            "train: give one of optimizer.clipnorm (each gradient on its own) and "
            "global_clipnorm (all together). Received: optimizer.clipnorm=1.0, "
            "global_clipnorm=1.0. Remove one.",
        ),
        (
            {"weight_decay_on_norm_and_bias": "no"},
            "train.weight_decay_on_norm_and_bias: expected true or false",
        ),
    ],
)
def test_bad_values_are_located_errors_with_the_fix(train, message):
    from registry import RecipeError, load_recipe

    with pytest.raises(RecipeError) as error:
        load_recipe({**RECIPE, "train": train})
    assert message in str(error.value)


def test_the_ema_after_n_steps_of_a_constant_gradient_is_the_closed_form():
    """Keras' rule: the first step copies w_1, then e_t = d e_(t-1) + (1 - d) w_t.

    With w_t = w_1 - (t - 1) c, the lag w_t - e_t obeys L_t = d (L_(t-1) - c)
    from L_1 = 0, so e_N = w_N + c d (1 - d^(N-1)) / (1 - d).
    """
    decay, lr, n = 0.9, 0.1, 20
    w0, g = np.full((2, 3), 1.5, "float32"), np.full((2, 3), 0.25, "float32")
    optimizer = optimizer_of(
        optimizer={"name": "sgd", "learning_rate": lr, "momentum": 0.0}, ema=decay
    )
    variable = keras.Variable(w0)
    for _ in range(n):
        optimizer.apply([keras.ops.convert_to_tensor(g)], [variable])
    c = lr * g.astype("float64")
    w_n = w0 - n * c
    expected = w_n + c * decay * (1 - decay ** (n - 1)) / (1 - decay)
    average = [v for v in optimizer.variables if "average" in v.path]
    assert len(average) == 1
    np.testing.assert_allclose(values(average)[0], expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(values([variable])[0], w_n, atol=1e-6, rtol=0)


def test_under_accumulation_the_ema_moves_once_per_optimizer_step():
    decay, lr, n, steps = 0.9, 0.1, 4, 5
    w0, g = np.full((3,), 1.5, "float32"), np.full((3,), 0.25, "float32")
    section = {"name": "sgd", "learning_rate": lr, "momentum": 0.0}
    plain = optimizer_of(optimizer=section, ema=decay)
    accumulating = optimizer_of(optimizer=section, ema=decay, gradient_accumulation=n)
    a, b = keras.Variable(w0), keras.Variable(w0)
    for _ in range(steps):
        plain.apply([keras.ops.convert_to_tensor(g)], [a])
        for _ in range(n):
            accumulating.apply([keras.ops.convert_to_tensor(g)], [b])
    np.testing.assert_allclose(values([b]), values([a]), atol=1e-6, rtol=0)
    averages = [
        values([v for v in o.variables if "average" in v.path])[0] for o in (plain, accumulating)
    ]
    np.testing.assert_allclose(averages[1], averages[0], atol=1e-6, rtol=0)
