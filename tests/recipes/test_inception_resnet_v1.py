"""Inception-ResNet-V1 (Szegedy et al. 2016, Figs. 10-15): the grid sizes and widths."""

import keras

from registry import build, load_recipe
from resblocks import InceptionResNetStem, ReductionA


def test_stage_outputs_at_299_are_the_papers():
    # Figure 14 ends at 35x35x256; Reduction-A (Table 1: k, l, m, n = 192,
    # 192, 256, 384) gives 17x17x896; Reduction-B (Figure 12) 8x8x1792.
    model = build("inception_resnet_v1", include_top=False, features=["c3", "c4", "c5"])
    shapes = {name: tuple(out.shape[1:]) for name, out in model.output.items()}
    assert shapes == {"c3": (35, 35, 256), "c4": (17, 17, 896), "c5": (8, 8, 1792)}
    for layer, shape in [
        ("stem", (35, 35, 256)),
        ("mixed_6a", (17, 17, 896)),
        ("mixed_7a", (8, 8, 1792)),
    ]:
        assert tuple(model.get_layer(layer).output.shape[1:]) == shape


def test_parameters_equal_a_plain_keras_transcription_of_facenet():
    # 22,578,384 without the head: counted from a plain-layer Keras
    # transcription of davidsandberg/facenet's inception_resnet_v1.py
    # (BN without gamma, as TF-slim's default), 5 + 10 + 5 blocks and the
    # linear last one; the paper publishes no count.
    recipe = load_recipe("inception_resnet_v1")
    assert [stage.repeats for stage in recipe.stages] == [5, 1, 10, 1, 5, 1]
    model = build("inception_resnet_v1", input_shape=(75, 75, 3), include_top=False)
    assert model.count_params() == 22_578_384
    assert build("inception_resnet_v1", input_shape=(75, 75, 3)).count_params() == (
        22_578_384 + 1792 * 1000 + 1000
    )


def test_v1_stem_convolves_where_v2_pools():
    v1, v2 = InceptionResNetStem(final_conv=256), InceptionResNetStem()
    assert v1.compute_output_shape((None, 299, 299, 3)) == (None, 35, 35, 256)
    assert v2.compute_output_shape((None, 299, 299, 3)) == (None, 35, 35, 192)
    assert [type(layer).__name__ for layer in v1.sublayers][-1] == "ConvBN"


def test_reduction_a_widths_are_table_1s_k_l_m_n():
    v1 = ReductionA(k=192, l=192, m=256, n=384)
    assert v1.compute_output_shape((None, 35, 35, 256)) == (None, 17, 17, 256 + 384 + 256)
    assert ReductionA().compute_output_shape((None, 35, 35, 320)) == (None, 17, 17, 1088)
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(v1)).m == 256
