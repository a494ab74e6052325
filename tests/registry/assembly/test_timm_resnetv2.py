"""timm's ResNetV2 networks (`timm/models/resnetv2.py`): each recipe's trainable parameters.

Counted from timm 1.0.31's models, `sum(p.numel() for p in
create_model(name).parameters())` at 1000 classes. Each model is built at a
small input (the count does not depend on it) and counted once, in
`helpers.measures`; the big ones are slow-marked by `recipe_params`.
"""

from helpers import trainable_parameters_test

TIMM_RESNETV2 = {
    "resnetv2_18": 11_687_720,
    "resnetv2_18d": 11_706_952,
    "resnetv2_34": 21_795_880,
    "resnetv2_34d": 21_815_112,
    "resnetv2_50": 25_549_352,
    "resnetv2_50d": 25_568_584,
    "resnetv2_50t": 25_566_048,
    "resnetv2_101": 44_541_480,
    "resnetv2_101d": 44_560_712,
    "resnetv2_152": 60_185_128,
    "resnetv2_152d": 60_204_360,
    "resnetv2_50d_gn": 25_568_584,
    # FRN with TLU, EvoNorm-S0: one more vector per norm (tau, v) than batch norm's two
    "resnetv2_50d_frn": 25_591_368,
    "resnetv2_50d_evos": 25_591_368,
    # BiT: group norm and weight-standardized convolutions
    "resnetv2_50x1_bit": 25_549_352,
    "resnetv2_50x3_bit": 217_319_080,
    "resnetv2_101x1_bit": 44_541_480,
    "resnetv2_101x3_bit": 387_934_888,
    "resnetv2_152x2_bit": 236_335_208,
    "resnetv2_152x4_bit": 936_533_224,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TIMM_RESNETV2)
