"""facenet-pytorch's InceptionResnetV1, written independently of resblocks, for the weights tests.

`state_dict()` makes random weights (BN statistics and scales randomised
too) with the keys and shapes facenet-pytorch's `models/inception_resnet_v1.py`
gives them, its `logits` classifier included; `forward(state, x)` runs the
network with `torch.nn.functional` only, as that module's `forward` does
with `classify=False`: the L2-normalised 512-d embedding. Neither reads
our code.

    python tests/registry/pretrained/facenet_reference.py [full|short]  # rewrites its .npz

The stored embeddings let the loading test run where PyTorch is not installed.
"""

import math
import sys
from pathlib import Path

import numpy as np
import reference_parts as parts
from reference_parts import (
    INCEPTION_STEM,
    SEED,
    Functional,
    RandomWeights,
    inception_layers,
    inception_weights,
    write_outputs,
)

DATA = Path(__file__).parent / "data" / "facenet_reference.npz"
SIDE = 75  # the smallest input the network takes: 1x1 after mixed_7a
IDENTITIES = 8631  # VGGFace2's classifier; CASIA-WebFace's has 10575

# (module, in, out, kernel, stride, padding) of each BasicConv2d of the stem: V1's
# convolves once more where V2's pools (Fig. 14).
STEM = [*INCEPTION_STEM, ("conv2d_4b", 192, 256, 3, 2, 0)]
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


def state_dict(repeats: tuple[int, int, int] = REPEATS, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in facenet-pytorch's layout, num_batches_tracked and logits included."""
    w = RandomWeights(seed, gamma=(0.3, 1.2))

    def up(module, width, mixed):
        w.state[f"{module}.conv2d.weight"] = w.normal(0.3 / math.sqrt(mixed), (width, mixed, 1, 1))
        w.state[f"{module}.conv2d.bias"] = w.normal(0.1, width)

    inception_weights(w, STEM, body(repeats), up)
    w.linear("last_linear", 512, 1792, bias=False)
    w.norm("last_bn", 512)
    w.linear("logits", IDENTITIES, 512)
    return w.state_dict()


def images(n: int = 2, seed: int = SEED) -> np.ndarray:
    """Face crops as the network sees them (already standardised), NHWC."""
    return parts.images(SIDE, n, seed)


def forward(
    state: dict[str, np.ndarray], x_nhwc: np.ndarray, repeats: tuple[int, int, int] = REPEATS
) -> np.ndarray:
    """The embeddings, computed by torch.nn.functional as InceptionResnetV1.forward does."""
    import torch
    import torch.nn.functional as F

    fn = Functional(state, bn_eps=0.001)
    with torch.no_grad():
        pools = ("conv2d_2b",)  # maxpool_3a
        x = inception_layers(fn, fn.input(x_nhwc), STEM, pools, body(repeats))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)  # avgpool_1a; dropout is off in eval
        x = fn.bn(F.linear(x, fn["last_linear.weight"]), "last_bn")
        return F.normalize(x, p=2, dim=1).numpy()


def output(name: str) -> np.ndarray:
    """The stored embeddings: of the whole network ("full") or one block of each kind ("short")."""
    repeats = SHORT if name == "short" else REPEATS
    return forward(state_dict(repeats), images(), repeats)


if __name__ == "__main__":
    sys.exit(write_outputs(DATA, output, sys.argv[1:] or ["full", "short"]))
