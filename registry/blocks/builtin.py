"""The built-in blocks, registered in one explicit table."""

from registry.blocks.table import add_block
from resblocks import (
    BottleNeck,
    CifarStem,
    Classifier,
    ConvBN,
    DeepStem,
    InceptionResBlock8,
    InceptionResBlock8V1,
    InceptionResBlock17,
    InceptionResBlock17V1,
    InceptionResBlock35,
    InceptionResBlock35V1,
    InceptionResNetStem,
    InceptionResNetV1Stem,
    Mixed5b,
    PostNorm,
    PreActBottleNeck,
    PreActResBlock,
    PreActStem,
    ReductionA,
    ReductionB,
    ReductionBV1,
    ResBlock,
    ResNetStem,
)

BUILTIN_BLOCKS = [
    # name                   class                 kind
    ("resnet_stem",           ResNetStem,           "stem"),
    ("cifar_stem",            CifarStem,            "stem"),
    ("inception_resnet_stem", InceptionResNetStem,  "stem"),
    ("preact_stem",           PreActStem,           "stem"),
    ("deep_stem",             DeepStem,             "stem"),
    ("conv_bn",               ConvBN,               "block"),
    ("res_block",             ResBlock,             "block"),
    ("bottleneck",            BottleNeck,           "block"),
    ("preact_block",          PreActResBlock,       "block"),
    ("preact_bottleneck",     PreActBottleNeck,     "block"),
    ("post_norm",             PostNorm,             "block"),
    ("mixed_5b",              Mixed5b,              "block"),
    ("inception_resnet_a",    InceptionResBlock35,  "block"),
    ("reduction_a",           ReductionA,           "block"),
    ("inception_resnet_b",    InceptionResBlock17,  "block"),
    ("reduction_b",           ReductionB,           "block"),
    ("inception_resnet_c",    InceptionResBlock8,   "block"),
    ("inception_resnet_v1_stem", InceptionResNetV1Stem, "stem"),
    ("inception_resnet_v1_a", InceptionResBlock35V1, "block"),
    ("inception_resnet_v1_b", InceptionResBlock17V1, "block"),
    ("reduction_b_v1",        ReductionBV1,         "block"),
    ("inception_resnet_v1_c", InceptionResBlock8V1, "block"),
    ("classifier",            Classifier,           "head"),
]  # fmt: skip

for _name, _cls, _kind in BUILTIN_BLOCKS:
    add_block(_name, _cls, _kind)
