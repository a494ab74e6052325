"""facenet-pytorch's InceptionResnetV1, written independently of resblocks, for the weights tests.

`state_dict()` makes random weights (BN statistics and scales randomised
too) with the keys and shapes facenet-pytorch's `models/inception_resnet_v1.py`
gives them, its `logits` classifier included; `forward(state, x)` runs the
network with `torch.nn.functional` only, as that module's `forward` does
with `classify=False`: the L2-normalised 512-d embedding. Neither reads
our code.

    python tests/registry/pretrained/facenet_reference.py   # rewrites data/facenet_reference.npz

The stored embeddings let the loading test run where PyTorch is not installed.
"""

import math
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "facenet_reference.npz"
SIDE = 75  # the smallest input the network takes: 1x1 after mixed_7a
SEED = 0
IDENTITIES = 8631  # VGGFace2's classifier; CASIA-WebFace's has 10575

# (module, in, out, kernel, stride, padding) of each BasicConv2d of the stem.
STEM = [
    ("conv2d_1a", 3, 32, 3, 2, 0),
    ("conv2d_2a", 32, 32, 3, 1, 0),
    ("conv2d_2b", 32, 64, 3, 1, 1),
    ("conv2d_3b", 64, 80, 1, 1, 0),
    ("conv2d_4a", 80, 192, 3, 1, 0),
    ("conv2d_4b", 192, 256, 3, 2, 0),
]
# Each block's branches: lists of (in, out, kernel, stride, padding); kernel and padding (h, w).
BLOCK35 = [
    [(256, 32, (1, 1), 1, (0, 0))],
    [(256, 32, (1, 1), 1, (0, 0)), (32, 32, (3, 3), 1, (1, 1))],
    [(256, 32, (1, 1), 1, (0, 0)), (32, 32, (3, 3), 1, (1, 1)), (32, 32, (3, 3), 1, (1, 1))],
]
BLOCK17 = [
    [(896, 128, (1, 1), 1, (0, 0))],
    [(896, 128, (1, 1), 1, (0, 0)), (128, 128, (1, 7), 1, (0, 3)), (128, 128, (7, 1), 1, (3, 0))],
]
BLOCK8 = [
    [(1792, 192, (1, 1), 1, (0, 0))],
    [(1792, 192, (1, 1), 1, (0, 0)), (192, 192, (1, 3), 1, (0, 1)), (192, 192, (3, 1), 1, (1, 0))],
]
MIXED_6A = [
    [(256, 384, (3, 3), 2, (0, 0))],
    [(256, 192, (1, 1), 1, (0, 0)), (192, 192, (3, 3), 1, (1, 1)), (192, 256, (3, 3), 2, (0, 0))],
    "pool",
]
MIXED_7A = [
    [(896, 256, (1, 1), 1, (0, 0)), (256, 384, (3, 3), 2, (0, 0))],
    [(896, 256, (1, 1), 1, (0, 0)), (256, 256, (3, 3), 2, (0, 0))],
    [(896, 256, (1, 1), 1, (0, 0)), (256, 256, (3, 3), 1, (1, 1)), (256, 256, (3, 3), 2, (0, 0))],
    "pool",
]
REPEATS = (5, 10, 5)  # Block35, Block17, Block8 before the last, linear Block8
SHORT = (1, 1, 1)  # one block of each kind: the same keys at fewer indices, for `make test`


def body(repeats: tuple[int, int, int] = REPEATS) -> list:
    """(module, branches, residual width, scale, ReLU after the sum) of each body module."""
    a, b, c = repeats
    return (
        [(f"repeat_1.{i}", BLOCK35, 256, 0.17, True) for i in range(a)]
        + [("mixed_6a", MIXED_6A, None, None, None)]
        + [(f"repeat_2.{i}", BLOCK17, 896, 0.10, True) for i in range(b)]
        + [("mixed_7a", MIXED_7A, None, None, None)]
        + [(f"repeat_3.{i}", BLOCK8, 1792, 0.20, True) for i in range(c)]
        + [("block8", BLOCK8, 1792, 1.0, False)]
    )


def branch_key(module: str, j: int, branch: list, k: int) -> str:
    """A lone BasicConv2d is the branch itself; several are an nn.Sequential."""
    return f"{module}.branch{j}" if len(branch) == 1 else f"{module}.branch{j}.{k}"


def state_dict(repeats: tuple[int, int, int] = REPEATS, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in facenet-pytorch's layout, num_batches_tracked and logits included."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def basic_conv(key, cin, out, kernel):
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        state[f"{key}.conv.weight"] = rng.normal(
            0, math.sqrt(2 / (cin * kh * kw)), (out, cin, kh, kw)
        )
        bn(f"{key}.bn", out)

    def bn(key, channels):
        state[f"{key}.weight"] = rng.uniform(0.3, 1.2, channels)
        state[f"{key}.bias"] = rng.normal(0, 0.1, channels)
        state[f"{key}.running_mean"] = rng.normal(0, 0.1, channels)
        state[f"{key}.running_var"] = rng.uniform(0.5, 1.5, channels)
        state[f"{key}.num_batches_tracked"] = np.array(100, dtype=np.int64)

    for key, cin, out, kernel, _, _ in STEM:
        basic_conv(key, cin, out, kernel)
    for module, branches, width, _, _ in body(repeats):
        mixed = 0
        for j, branch in enumerate(branches):
            if branch == "pool":
                continue
            for k, (cin, out, kernel, _, _) in enumerate(branch):
                basic_conv(branch_key(module, j, branch, k), cin, out, kernel)
            mixed += branch[-1][1]
        if width is not None:  # the linear 1x1 back to the input width, with bias
            state[f"{module}.conv2d.weight"] = rng.normal(
                0, 0.3 / math.sqrt(mixed), (width, mixed, 1, 1)
            )
            state[f"{module}.conv2d.bias"] = rng.normal(0, 0.1, width)
    state["last_linear.weight"] = rng.normal(0, 1 / math.sqrt(1792), (512, 1792))
    bn("last_bn", 512)
    state["logits.weight"] = rng.normal(0, 1 / math.sqrt(512), (IDENTITIES, 512))
    state["logits.bias"] = rng.normal(0, 0.1, IDENTITIES)
    return {k: v.astype("float32") if v.dtype == np.float64 else v for k, v in state.items()}


def images(n: int = 2, seed: int = SEED) -> np.ndarray:
    """Face crops as the network sees them (already standardised), NHWC."""
    return np.random.default_rng(seed + 1).normal(size=(n, SIDE, SIDE, 3)).astype("float32")


def forward(
    state: dict[str, np.ndarray], x_nhwc: np.ndarray, repeats: tuple[int, int, int] = REPEATS
) -> np.ndarray:
    """The embeddings, computed by torch.nn.functional as InceptionResnetV1.forward does."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}

    def bn(x, key):
        return F.batch_norm(
            x,
            t[f"{key}.running_mean"],
            t[f"{key}.running_var"],
            t[f"{key}.weight"],
            t[f"{key}.bias"],
            training=False,
            eps=0.001,
        )

    def basic_conv(x, key, stride, padding):
        x = F.conv2d(x, t[f"{key}.conv.weight"], None, stride, padding)
        return F.relu(bn(x, f"{key}.bn"))

    with torch.no_grad():
        x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()
        for key, _, _, _, stride, padding in STEM:
            x = basic_conv(x, key, stride, padding)
            if key == "conv2d_2b":
                x = F.max_pool2d(x, 3, 2)  # maxpool_3a
        for module, branches, width, scale, relu in body(repeats):
            outs = []
            for j, branch in enumerate(branches):
                if branch == "pool":
                    outs.append(F.max_pool2d(x, 3, 2))
                    continue
                out = x
                for k, (_, _, _, stride, padding) in enumerate(branch):
                    out = basic_conv(out, branch_key(module, j, branch, k), stride, padding)
                outs.append(out)
            out = torch.cat(outs, 1)
            if width is None:  # Mixed_6a, Mixed_7a
                x = out
                continue
            out = F.conv2d(out, t[f"{module}.conv2d.weight"], t[f"{module}.conv2d.bias"])
            x = out * scale + x
            if relu:
                x = F.relu(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)  # avgpool_1a; dropout is off in eval
        x = F.linear(x, t["last_linear.weight"])
        x = bn(x, "last_bn")
        return F.normalize(x, p=2, dim=1).numpy()


def main() -> int:
    outputs = {
        "full": forward(state_dict(), images()),
        "short": forward(state_dict(SHORT), images(), SHORT),
    }
    DATA.parent.mkdir(exist_ok=True)
    np.savez_compressed(DATA, **outputs)
    print(f"wrote {DATA} ({', '.join(outputs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
