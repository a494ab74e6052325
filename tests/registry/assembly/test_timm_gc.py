"""timm's global context ResNet (byobnet.py's gcresnet50t): trainable parameters equal timm's.

Counted from timm 1.0.31's model, sum(p.numel() for p in
create_model("gcresnet50t").parameters()): ResNet-50's convolutions with
the tiered stem (24, 32, 64, no pool), and per block a global context
block on the 3x3's width C: W_k (C + 1), the transform's two 1x1s with
biases (C/8 wide) and its LayerNorm (2 C/8).
"""

from helpers import trainable_parameters_test

TRAINABLE = {
    "gcresnet50t": 25_897_080,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TRAINABLE)
