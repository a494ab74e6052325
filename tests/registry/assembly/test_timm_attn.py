"""timm's ECA and anti-aliased ResNets: each recipe's trainable parameters equal timm's.

Counted from timm 1.0.31's models, sum(p.numel() for p in
create_model(name).parameters()): ECA adds k weights per block (no bias);
the anti-aliasing pools and blurs add none, so resnetaa50 and resnetblur50
count as ResNet-50. Large recipes (more than 20 blocks) run in `make test-slow`.
"""

from helpers import trainable_parameters_test

TRAINABLE = {
    "ecaresnet26t": 16_011_916,
    "ecaresnet50d": 25_576_350,
    "ecaresnet50t": 25_573_814,
    "ecaresnet101d": 44_568_563,
    "ecaresnet200d": 64_693_400,
    "ecaresnet269d": 102_093_077,
    "ecaresnetlight": 30_162_046,
    "ecaresnext26t_32x4d": 15_406_220,
    "ecaresnext50t_32x4d": 25_045_686,
    "resnetaa34d": 21_816_904,
    "resnetaa50": 25_557_032,
    "resnetaa50d": 25_576_264,
    "resnetaa101d": 44_568_392,
    "seresnetaa50d": 28_107_256,
    "seresnextaa101d_32x8d": 93_588_280,
    "seresnextaa201d_32x8d": 149_394_904,
    "resnetblur18": 11_689_512,
    "resnetblur50": 25_557_032,
    "resnetblur50d": 25_576_264,
    "resnetblur101d": 44_568_392,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TRAINABLE)
