"""signatures.py, the block table without Keras, says what the code says.

`python -m registry.blocks.generate` (make docs) writes it; when a block's
signature, a name in builtin.py or an allowed-value constant changes, this
test fails until it is run again.
"""

from helpers import constructor_arguments

from registry.blocks import generate, get_block, list_blocks, signatures
from registry.blocks.arguments import args_model
from registry.keras_compat import keras_names

FIX = (
    "run `python -m registry.blocks.generate` (make docs) and commit registry/blocks/signatures.py"
)


def test_blocks_match_the_classes():
    assert [tuple(row) for row in signatures.BLOCKS] == generate.block_rows(), FIX


def test_constants_match_resblocks():
    for name, values in generate.constants().items():
        assert getattr(signatures, name) == values, f"{name}: {FIX}"


def test_keras_names_match_keras():
    for what in ("activations", "initializers"):
        known, accepted = keras_names(what)
        assert signatures.__dict__[f"{what.upper()}_KNOWN"] == tuple(known), FIX
        assert signatures.__dict__[f"{what.upper()}_ACCEPTED"] == tuple(accepted), FIX


def test_argument_models_from_the_table_equal_those_from_the_classes():
    for name in list_blocks():
        entry = get_block(name)
        from_class = args_model(entry.cls).model_json_schema()
        assert entry.args.model_json_schema() == from_class, name
        parameters = list(constructor_arguments(entry.cls))
        assert all(entry.takes(p) for p in entry.args.model_fields), name
        assert set(entry.parameters) <= set(parameters), name


def test_old_names_match_builtin():
    assert [tuple(row) for row in signatures.OLD_NAMES] == generate.old_name_rows(), FIX
