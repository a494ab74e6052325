"""resblocks: the Keras layers that residual networks are built from.

Keras and keras.ops only, so any Keras backend can run them; every class is
registered for safe `.keras` loading under the package name "resblocks".
"""

from resblocks.conv_bn import ConvBN
from resblocks.drop_path import DropPath
from resblocks.heads import Classifier
from resblocks.inception_modules import Mixed5b, ReductionA, ReductionB
from resblocks.inception_resnet import (
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    ScaledResidual,
)
from resblocks.network import Network
from resblocks.preprocessing import Preprocess
from resblocks.residual import BottleNeck, ResBlock
from resblocks.shortcut import ZeroPadShortcut
from resblocks.stems import CifarStem, InceptionResNetStem, ResNetStem

__all__ = [
    "BottleNeck",
    "CifarStem",
    "Classifier",
    "ConvBN",
    "DropPath",
    "InceptionResBlock17",
    "InceptionResBlock35",
    "InceptionResBlock8",
    "InceptionResNetStem",
    "Mixed5b",
    "Network",
    "Preprocess",
    "ReductionA",
    "ReductionB",
    "ResBlock",
    "ResNetStem",
    "ScaledResidual",
    "ZeroPadShortcut",
]
