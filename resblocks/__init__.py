"""resblocks: the Keras layers that residual networks are built from.

Keras and keras.ops only, so any Keras backend can run them; every class is
registered for safe `.keras` loading under the package name "resblocks".
"""

from resblocks.anti_alias import BlurPool2D
from resblocks.conv_bn import ConvBN
from resblocks.drop_path import DropPath
from resblocks.efficient_channel_attention import EfficientChannelAttention
from resblocks.embedding import Embedding
from resblocks.global_context import GlobalContext
from resblocks.grouped_conv import GroupedConv2D
from resblocks.heads import Classifier
from resblocks.inception_modules import Mixed5b, ReductionA, ReductionB
from resblocks.inception_resnet import (
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    ScaledResidual,
)

# Deprecated: V1 is the V2 classes with V1_WIDTHS; these names build them and warn.
from resblocks.inception_resnet_v1 import (
    InceptionResBlock8V1,
    InceptionResBlock17V1,
    InceptionResBlock35V1,
    InceptionResNetV1Stem,
    ReductionBV1,
)
from resblocks.network import Network
from resblocks.norm_activation import EvoNormS0, FilterResponseNormalization
from resblocks.normalization import StdConv2D
from resblocks.preact import PostNorm, PreActBottleNeck, PreActResBlock, PreActStem
from resblocks.preprocessing import Preprocess
from resblocks.res2net import Res2NetBottleneck
from resblocks.residual import BottleNeck, ResBlock
from resblocks.resnest import ResNestBottleneck, SplitAttention
from resblocks.selective_kernel import (
    SelectiveKernel,
    SelectiveKernelBlock,
    SelectiveKernelBottleneck,
)
from resblocks.shortcut import AvgDownShortcut, ZeroPadShortcut
from resblocks.squeeze_excite import SqueezeExcite
from resblocks.stems import (
    CifarStem,
    DeepStem,
    InceptionResNetStem,
    NegInfPadding2D,
    ResNetStem,
)

__all__ = [
    "AvgDownShortcut",
    "BlurPool2D",
    "BottleNeck",
    "CifarStem",
    "Classifier",
    "ConvBN",
    "DeepStem",
    "DropPath",
    "EfficientChannelAttention",
    "Embedding",
    "EvoNormS0",
    "FilterResponseNormalization",
    "GlobalContext",
    "GroupedConv2D",
    "InceptionResBlock17",
    "InceptionResBlock17V1",
    "InceptionResBlock35",
    "InceptionResBlock35V1",
    "InceptionResBlock8",
    "InceptionResBlock8V1",
    "InceptionResNetStem",
    "InceptionResNetV1Stem",
    "Mixed5b",
    "NegInfPadding2D",
    "Network",
    "PostNorm",
    "PreActBottleNeck",
    "PreActResBlock",
    "PreActStem",
    "Preprocess",
    "ReductionA",
    "ReductionB",
    "ReductionBV1",
    "Res2NetBottleneck",
    "ResBlock",
    "ResNestBottleneck",
    "ResNetStem",
    "ScaledResidual",
    "SelectiveKernel",
    "SelectiveKernelBlock",
    "SelectiveKernelBottleneck",
    "SplitAttention",
    "SqueezeExcite",
    "StdConv2D",
    "ZeroPadShortcut",
]
