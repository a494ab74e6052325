"""The built-in blocks in one explicit table, and their old names.

A block's name follows from its class by one rule, the name Keras gives a
layer of that class by default (`registry.names.snake_case`): `BottleNeck`
is `bottle_neck`, `InceptionResBlock35` is `inception_res_block35`. The
names of earlier releases still resolve, with a FutureWarning (`OLD_NAMES`).
`python -m registry.blocks.generate` writes this table, the classes'
signatures and the old names into `signatures.py`, from which the block
table is filled without importing Keras.
"""

from resblocks import (
    BottleNeck,
    CifarStem,
    Classifier,
    ConvBN,
    DeepStem,
    Embedding,
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    InceptionResNetStem,
    Mixed5b,
    PostNorm,
    PreActBottleNeck,
    PreActResBlock,
    PreActStem,
    ReductionA,
    ReductionB,
    Res2NetBottleneck,
    ResBlock,
    ResNestBottleneck,
    ResNetStem,
    SelectiveKernelBlock,
    SelectiveKernelBottleneck,
)
from resblocks.inception_resnet_v1 import V1_WIDTHS

BUILTIN_BLOCKS = [
    # class               kind
    (ResNetStem,          "stem"),
    (CifarStem,           "stem"),
    (InceptionResNetStem, "stem"),
    (PreActStem,          "stem"),
    (DeepStem,            "stem"),
    (ConvBN,              "block"),
    (ResBlock,            "block"),
    (BottleNeck,          "block"),
    (Res2NetBottleneck,   "block"),
    (ResNestBottleneck,   "block"),
    (SelectiveKernelBlock, "block"),
    (SelectiveKernelBottleneck, "block"),
    (PreActResBlock,      "block"),
    (PreActBottleNeck,    "block"),
    (PostNorm,            "block"),
    (Mixed5b,             "block"),
    (InceptionResBlock35, "block"),
    (ReductionA,          "block"),
    (InceptionResBlock17, "block"),
    (ReductionB,          "block"),
    (InceptionResBlock8,  "block"),
    (Classifier,          "head"),
    (Embedding,           "head"),
]  # fmt: skip

# The names of earlier releases: old name -> (class, the arguments it stood for).
# Inception-ResNet-V1's blocks were classes of their own; they are V2's with V1's widths.
OLD_NAMES = {
    "resnet_stem":              (ResNetStem, {}),
    "inception_resnet_stem":    (InceptionResNetStem, {}),
    "preact_stem":              (PreActStem, {}),
    "bottleneck":               (BottleNeck, {}),
    "preact_block":             (PreActResBlock, {}),
    "preact_bottleneck":        (PreActBottleNeck, {}),
    "mixed_5b":                 (Mixed5b, {}),
    "inception_resnet_a":       (InceptionResBlock35, {}),
    "inception_resnet_b":       (InceptionResBlock17, {}),
    "inception_resnet_c":       (InceptionResBlock8, {}),
    "inception_resnet_v1_stem": (InceptionResNetStem, V1_WIDTHS[InceptionResNetStem]),
    "inception_resnet_v1_a":    (InceptionResBlock35, V1_WIDTHS[InceptionResBlock35]),
    "inception_resnet_v1_b":    (InceptionResBlock17, V1_WIDTHS[InceptionResBlock17]),
    "reduction_b_v1":           (ReductionB, V1_WIDTHS[ReductionB]),
    "inception_resnet_v1_c":    (InceptionResBlock8, V1_WIDTHS[InceptionResBlock8]),
}  # fmt: skip
