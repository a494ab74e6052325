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


def _v1_name(old: str, cls: type):
    """A function named `old` that builds `cls` with V1's widths, with a DeprecationWarning."""

    def build(**kwargs):
        warnings.warn(
            f"{old} is deprecated and will be removed in the next release: use "
            f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in V1_WIDTHS[cls].items())}).",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(**{**V1_WIDTHS[cls], **kwargs})

    build.__name__ = build.__qualname__ = old
    build.__doc__ = f"Deprecated: `{cls.__name__}` with Inception-ResNet-V1's widths."
    # `.keras` files saved with the old class name deserialize through this.
    build.from_config = lambda config: build(**config)
    return keras.saving.register_keras_serializable(package="resblocks", name=old)(build)


InceptionResNetV1Stem = _v1_name("InceptionResNetV1Stem", InceptionResNetStem)
InceptionResBlock35V1 = _v1_name("InceptionResBlock35V1", InceptionResBlock35)
InceptionResBlock17V1 = _v1_name("InceptionResBlock17V1", InceptionResBlock17)
ReductionBV1 = _v1_name("ReductionBV1", ReductionB)
InceptionResBlock8V1 = _v1_name("InceptionResBlock8V1", InceptionResBlock8)
