"""Speed options: what `mixed_precision:` and `xla:` settings mean on each device."""

import keras
import pytest

from registry.training import speed


@pytest.mark.parametrize(
    "setting, device, bf16, expected",
    [
        (False, "cpu", True, "float32"),
        (None, "gpu", True, "float32"),
        (True, "gpu", False, "mixed_float16"),
        ("auto", "gpu", False, "mixed_float16"),
        (True, "cpu", True, "mixed_bfloat16"),
        (True, "cpu", False, "float32"),  # emulated bfloat16 is slower than float32
        ("mixed_bfloat16", "cpu", False, "mixed_bfloat16"),  # named: used as it is
        ("float32", "gpu", False, "float32"),
    ],
)
def test_mixed_precision_policy(monkeypatch, setting, device, bf16, expected):
    monkeypatch.setattr(speed, "cpu_has_bf16", lambda: bf16)
    assert speed.mixed_precision_policy(setting, device) == expected


def test_unknown_policy_names_the_choices():
    with pytest.raises(
        ValueError,
        match=r"expected true, false, \"auto\" or one of float32, "
        r"mixed_float16, mixed_bfloat16. Received: mixed_precision='fp16'",
    ):
        speed.mixed_precision_policy("fp16", "cpu")


def test_set_mixed_precision_sets_the_global_policy():
    try:
        assert speed.set_mixed_precision("mixed_bfloat16") == "mixed_bfloat16"
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "setting, device, expected",
    [
        ("auto", "cpu", False),
        (None, "cpu", False),
        ("auto", "gpu", True),
        (True, "cpu", True),
        (False, "gpu", False),
    ],
)
def test_jit_compile(setting, device, expected):
    assert speed.jit_compile(setting, device) is expected


@pytest.mark.parametrize(
    "backend, setting, expected",
    [("jax", "auto", True), ("torch", "auto", False), ("jax", False, False), ("torch", True, True)],
)
def test_jit_compile_off_tensorflow(backend, setting, expected, monkeypatch):
    # JAX runs un-jitted steps op by op; torch's jit is torch.compile.
    monkeypatch.setattr(keras.config, "backend", lambda: backend)
    assert speed.jit_compile(setting, "cpu") is expected


def test_jit_compile_refuses_other_values():
    with pytest.raises(ValueError, match="expected true, false or \"auto\". Received: xla='yes'"):
        speed.jit_compile("yes", "cpu")


def test_accelerator_is_cpu_or_gpu():
    assert speed.accelerator() in ("cpu", "gpu")
