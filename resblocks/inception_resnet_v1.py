"""Inception-ResNet-V1 is Inception-ResNet-V2 with other widths: these widths.

Szegedy et al. 2016, Figures 10-14: the V1 blocks are the V2 blocks with
narrower branches, and its stem convolves where V2's pools. So V1 is data
(recipes/inception_resnet_v1.yaml sets `V1_WIDTHS`), not classes. The V1
class names of earlier releases stay for one release as functions that
build the V2 class with V1's widths and warn; a `.keras` file saved with
them still loads.
"""

import warnings

import keras

from resblocks.inception_modules import ReductionB
from resblocks.inception_resnet import InceptionResBlock8, InceptionResBlock17, InceptionResBlock35
from resblocks.stems import InceptionResNetStem

# The arguments that make each V2 class its V1 counterpart.
V1_WIDTHS: dict[type, dict] = {
    InceptionResNetStem: {"final_conv": 256},  # Figure 14
    InceptionResBlock35: {"branch_2": [32, 32, 32]},  # Figure 10
    InceptionResBlock17: {"branch_0": [128], "branch_1": [128, 128, 128]},  # Figure 11
    ReductionB: {"branch_1": [256, 256], "branch_2": [256, 256, 256]},  # Figure 12
    InceptionResBlock8: {"branch_1": [192, 192, 192]},  # Figure 13
}


class DeprecatedV1Name:
    """An old V1 class name: calling it builds the V2 class with V1's widths, and warns.

    Not a layer class: one object per old name, registered under it so that
    `.keras` files saved with that class name still load (Keras calls
    `from_config`; a plain function would be returned as it is).
    """

    def __init__(self, old: str, cls: type):
        self.__name__ = self.__qualname__ = old
        self.cls = cls
        self.__doc__ = f"Deprecated: `{cls.__name__}` with Inception-ResNet-V1's widths."

    def __call__(self, **kwargs):
        widths = ", ".join(f"{k}={v!r}" for k, v in V1_WIDTHS[self.cls].items())
        warnings.warn(
            f"{self.__name__} is deprecated and will be removed in the next release: use "
            f"{self.cls.__name__}({widths}).",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.cls(**{**V1_WIDTHS[self.cls], **kwargs})

    def from_config(self, config: dict):
        return self(**config)

    def __repr__(self) -> str:
        return f"<deprecated {self.__name__}: {self.cls.__name__} with V1 widths>"


def _v1_name(old: str, cls: type) -> DeprecatedV1Name:
    return keras.saving.register_keras_serializable(package="resblocks", name=old)(
        DeprecatedV1Name(old, cls)
    )


InceptionResNetV1Stem = _v1_name("InceptionResNetV1Stem", InceptionResNetStem)
InceptionResBlock35V1 = _v1_name("InceptionResBlock35V1", InceptionResBlock35)
InceptionResBlock17V1 = _v1_name("InceptionResBlock17V1", InceptionResBlock17)
ReductionBV1 = _v1_name("ReductionBV1", ReductionB)
InceptionResBlock8V1 = _v1_name("InceptionResBlock8V1", InceptionResBlock8)
