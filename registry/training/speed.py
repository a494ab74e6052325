"""Speed options users set in a recipe's `train:` section: mixed precision and XLA.

Their per-device defaults are chosen by measurement.

The numbers behind each default are in docs/performance.md (`make bench`).
`registry.training.run` sets the policy before the model is built (Keras
reads the dtype policy when a layer is made) and passes `jit_compile(...)`
to `model.compile(jit_compile=...)`; `set_mixed_precision` does the first
for code of your own.
"""

from __future__ import annotations

import keras

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")

# Mixed precision per device when the user asks for it without naming a
# policy. GPUs: float16 runs on tensor cores and Keras adds loss scaling.
# CPUs: bfloat16 needs no loss scaling, and oneDNN runs it natively where the
# CPU has AVX-512 BF16 or AMX; elsewhere it is emulated (see CPU_BF16_FLAGS).
AUTO_POLICY = {"gpu": "mixed_float16", "cpu": "mixed_bfloat16"}

# CPU flags (/proc/cpuinfo) with which bfloat16 matmuls and convolutions run
# in hardware. Without them `make bench` measured mixed_bfloat16 slower
# than float32 on an AVX2-only CPU, so "auto" keeps float32 there.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")

# XLA per device when the user leaves `xla` at "auto". On CPU `make bench`
# measured XLA slower than TensorFlow's own oneDNN kernels for ResNets
# (inference and, by more, training), which is also what Keras' own "auto"
# does on CPU-only machines; on GPUs XLA fuses BN/ReLU/add into the
# convolutions and is the faster path.
XLA_DEFAULT = {"gpu": True, "cpu": False}


def accelerator() -> str:
    """ "gpu" when the Keras backend sees a GPU, else "cpu"."""
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    if backend == "jax":
        import jax

        return "gpu" if any(d.platform == "gpu" for d in jax.devices()) else "cpu"
    if backend == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (Linux; False if unknown)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return any(flag in flags for flag in CPU_BF16_FLAGS)
    except OSError:
        pass
    return False


def mixed_precision_policy(setting: bool | str | None = False, device: str | None = None) -> str:
    """The Keras dtype policy that a `mixed_precision:` setting means on `device`.

    Args:
        setting: bool, str or None. False or None: "float32". True or
            "auto": the fast policy of the device, "mixed_float16" on GPU,
            "mixed_bfloat16" on a CPU with bfloat16 hardware, "float32"
            on other CPUs (emulated bfloat16 is slower). A policy name
            ("float32", "mixed_float16", "mixed_bfloat16") is used as it is,
            and so is a recipe's "float16" or "bfloat16" (`train:
            mixed_precision: bfloat16` means "mixed_bfloat16").
        device: str or None. "gpu" or "cpu"; None asks `accelerator()`.

    Returns:
        A policy name for `keras.mixed_precision.set_global_policy`.
    """
    if setting is None or setting is False:
        return "float32"
    if setting is True or setting == "auto":
        device = device or accelerator()
        if device == "cpu" and not cpu_has_bf16():
            return "float32"
        return AUTO_POLICY[device]
    if setting in POLICIES:
        return setting
    if f"mixed_{setting}" in POLICIES:
        return f"mixed_{setting}"
    raise ValueError(
        "Invalid value received for argument `mixed_precision`: expected true, "
        f'false, "auto" or one of {", ".join(POLICIES)}. Received: '
        f"mixed_precision={setting!r}. Use true to pick the device's fast policy."
    )


def set_mixed_precision(setting: bool | str | None = False, device: str | None = None) -> str:
    """Sets Keras' global dtype policy from a `mixed_precision:` setting; returns the policy.

    Call it before building the model. The network's class scores stay
    float32 either way (the Classifier head's last Dense is float32).
    """
    policy = mixed_precision_policy(setting, device)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def jit_compile(setting: bool | str | None = "auto", device: str | None = None) -> bool:
    """The `jit_compile` for `model.compile()` that an `xla:` setting means.

    Args:
        setting: bool, str or None. True or False as given; "auto" or None:
            on TensorFlow `XLA_DEFAULT` for the device (off on CPU, on on
            GPU); on JAX on (JAX computes through XLA, and an un-jitted step
            runs op by op); on PyTorch off (True there means `torch.compile`,
            minutes of compiling for a ResNet).
        device: str or None. "gpu" or "cpu"; None asks `accelerator()`.
    """
    if isinstance(setting, bool):
        return setting
    if setting is None or setting == "auto":
        backend = keras.config.backend()
        if backend == "jax":
            return True
        if backend == "torch":
            return False
        return XLA_DEFAULT[device or accelerator()]
    raise ValueError(
        'Invalid value received for argument `xla`: expected true, false or "auto". '
        f"Received: xla={setting!r}"
    )
