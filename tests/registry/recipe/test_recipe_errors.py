"""Every bad recipe input gives one RecipeError naming the file, location, value and fix."""

import pytest
from helpers import tiny_recipe

from registry import RecipeError, build, load_recipe
from registry.recipe.files import read_recipe
from registry.recipe.strict_yaml import MAX_BYTES, MAX_DEPTH

IN_CODE = "<recipe given in code>"


def tiny(**changes):
    """The shared tiny recipe, which builds in well under a second; each test breaks one thing."""
    return tiny_recipe(**changes)


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(RecipeError) as info:
        call(*args, **kwargs)
    return str(info.value)


def assert_names(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


@pytest.fixture
def write(tmp_path):
    """Writes recipe text (or bytes) to a file and returns its path as a str."""

    def write(text, name="net.yaml"):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# === The file itself ===


def test_python_tag_is_refused(write):
    path = write("name: !!python/object/apply:os.system ['echo pwned']\n")
    message = error_of(load_recipe, path)
    assert_names(message, path, "line 1", "python/object/apply:os.system", "no Python tags")


def test_alias_bomb_is_refused(write):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]")
    path = write("\n".join(lines) + "\nname: *i\n")
    message = error_of(load_recipe, path)
    assert_names(
        message, path, "line 6", "more than 100,000 values once aliases are expanded", "alias bomb"
    )


def test_too_many_aliases_are_refused(write):
    path = write("a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n")
    assert_names(error_of(load_recipe, path), path, "line 2", "more than 100 aliases")


def test_an_alias_loop_is_refused(write):
    path = write("name: &a [*a]\n")
    assert_names(error_of(load_recipe, path), path, "line 1", "refers to a value that contains it")


@pytest.mark.parametrize(
    "text", ["[" * 5000, "x:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 60))]
)
def test_deep_nesting_is_refused(write, text):
    path = write(text)
    assert_names(error_of(load_recipe, path), path, f"nested more than {MAX_DEPTH} levels deep")


def test_duplicate_key_is_refused(write):
    path = write("name: a\ninput_shape: [8, 8, 3]\nname: b\n")
    assert_names(
        error_of(load_recipe, path),
        path,
        "line 3",
        "duplicate key 'name' on line 3 (first on line 1); keep one",
    )


def test_a_list_as_key_is_refused(write):
    path = write("? [1, 2]\n: x\n")
    assert_names(
        error_of(load_recipe, path), path, "line 1", "a key must be a plain value", "not a list"
    )


def test_merge_keys_are_refused(write):
    path = write("x: &x {name: a}\n<<: *x\n")
    assert_names(
        error_of(load_recipe, path), path, "line 2", "merge keys (<<) are not supported", "`base:`"
    )


def test_a_syntax_error_names_the_line(write):
    path = write("name: a\nstages: [{block: res_block\n")
    assert_names(error_of(load_recipe, path), path, "line 3", "Fix the YAML syntax")


def test_file_over_the_size_cap_is_refused(write):
    path = write("#" * (MAX_BYTES + 1))
    assert_names(
        error_of(load_recipe, path), path, f"{MAX_BYTES + 1:,} bytes", f"at most {MAX_BYTES:,}"
    )


@pytest.mark.parametrize(
    "text, kind", [("- 1\n- 2\n", "a list ([1, 2])"), ("just text\n", "a str ('just text')")]
)
def test_a_root_that_is_not_a_mapping_is_refused(write, text, kind):
    path = write(text)
    assert_names(
        error_of(load_recipe, path),
        path,
        "the top level must be a mapping",
        f"Received: {kind}",
        "key: value",
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_an_empty_file_is_refused(write, text):
    path = write(text)
    assert_names(error_of(load_recipe, path), path, "the file is empty", "name:", "stages:")


def test_a_file_that_is_not_utf8_is_refused(write):
    path = write(b"# a net\nname: caf\xe9\n")
    assert_names(
        error_of(load_recipe, path),
        path,
        "not UTF-8",
        "byte 0xe9 on line 2 (byte 17)",
        "Save it as UTF-8",
    )


def test_a_directory_is_refused(tmp_path):
    folder = tmp_path / "nets.yaml"
    folder.mkdir()
    assert_names(
        error_of(load_recipe, str(folder)),
        str(folder),
        "this is a directory",
        ".yaml file inside it",
    )


def test_a_missing_file_is_refused(tmp_path):
    path = str(tmp_path / "missing.yaml")
    assert_names(error_of(load_recipe, path), path, "no such file", "resnet50")


def test_an_unknown_recipe_name_suggests_the_closest():
    assert_names(
        error_of(load_recipe, "resnet5"), "unknown recipe 'resnet5'", "Did you mean", "'resnet50'"
    )


@pytest.mark.parametrize("recipe, kind", [([1, 2], "a list"), (None, "a NoneType"), (50, "a int")])
def test_a_recipe_of_the_wrong_type_is_refused(recipe, kind):
    assert_names(
        error_of(load_recipe, recipe),
        IN_CODE,
        "a name (resnet50), a path to a .yaml file, a mapping",
        f"Received: {kind}",
    )


# === base: ===


def test_a_missing_base_name_is_refused(write):
    path = write("base: resnet5\n")
    assert_names(
        error_of(load_recipe, path), path, "base:", "unknown recipe 'resnet5'", "'resnet50'"
    )


def test_a_missing_base_file_is_refused(write, tmp_path):
    path = write("base: parts/missing.yaml\n")
    assert_names(
        error_of(load_recipe, path),
        path,
        "base:",
        str(tmp_path / "parts" / "missing.yaml"),
        "no such file",
    )


def test_a_base_cycle_is_refused(write):
    write("base: b.yaml\nname: a\n", "a.yaml")
    write("base: a.yaml\n", "b.yaml")
    path = write("base: a.yaml\n", "top.yaml")
    assert_names(
        error_of(load_recipe, path),
        "base:",
        "the bases form a cycle: top.yaml -> a.yaml -> b.yaml -> a.yaml",
        "Remove one `base:`",
    )


def test_a_recipe_that_is_its_own_base_is_refused(write):
    path = write("base: self.yaml\n", "self.yaml")
    assert_names(error_of(load_recipe, path), path, "cycle: self.yaml -> self.yaml")


def test_a_base_that_is_not_a_mapping_is_refused(write):
    base = write("- a\n- b\n", "list.yaml")
    path = write("base: list.yaml\nname: x\n")
    assert_names(
        error_of(load_recipe, path),
        path,
        "base:",
        f"the base recipe {base} is invalid",
        "top level must be a mapping",
    )


def test_a_base_that_is_not_a_name_is_refused(write):
    path = write("base: [resnet50]\n")
    assert_names(
        error_of(load_recipe, path),
        path,
        "base:",
        "must be a recipe name (resnet50) or a path",
        "Received: ['resnet50']",
    )


def test_a_base_patch_index_out_of_range_is_refused(write):
    path = write("base: resnet18\nstages: {7: {repeats: 2}}\n")
    assert_names(
        error_of(load_recipe, path),
        path,
        "stages[7]:",
        "has 4 items, so index 7 does not exist",
        "from 0 to 3",
    )


def test_a_base_given_in_code_is_merged():
    recipe = load_recipe({"base": "resnet18", "name": "mine", "stages": {0: {"repeats": 1}}})
    assert recipe.name == "mine" and recipe.stages[0].repeats == 1 and len(recipe.stages) == 4


# === Structure and arguments ===


def test_an_unknown_key_suggests_the_closest():
    message = error_of(load_recipe, tiny(stagez=[]))
    assert_names(
        message,
        IN_CODE,
        "stagez: unknown key 'stagez'",
        "Did you mean 'stages'",
        "Remove it or fix its spelling",
    )


def test_a_missing_key_shows_an_example():
    raw = tiny()
    del raw["stages"]
    assert_names(
        error_of(load_recipe, raw),
        "stages: required key 'stages' is missing",
        "e.g. `stages: [{block:",
    )


def test_a_number_in_quotes_says_to_remove_them():
    message = error_of(load_recipe, "resnet18", overrides={"stages.1.repeats": "3"})
    assert_names(
        message,
        "resnet18.yaml",
        "stages[1].repeats: expected a whole number",
        "Received: '3' (a string)",
        "without quotes: 3",
    )


def test_repeats_over_the_bound_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stages.1.repeats": 100000})
    assert_names(
        message,
        "resnet18.yaml",
        "stages[1].repeats: must be at most 1000",
        "Received: 100000",
        "1 to 1000 blocks",
    )


@pytest.mark.parametrize(
    "filters, rule",
    [(0, "must be at least 1"), (-3, "must be at least 1"), (100000, "must be at most 8192")],
)
def test_filters_out_of_range_are_refused(filters, rule):
    message = error_of(load_recipe, "resnet18", overrides={"stages.0.filters": filters})
    assert_names(
        message, "stages[0].filters: " + rule, f"Received: {filters}", "Use 1 to 8192 channels"
    )


@pytest.mark.parametrize(
    "shape, location, rule",
    [
        ([9000, 9000, 3], "input_shape[0]", "must be at most 8192"),
        ([0, 32, 3], "input_shape[0]", "must be at least 1"),
        (
            [32, 32, 65],
            "input_shape",
            "the channel count (third number) must be 1 to 64. Received: 65. Give",
        ),
        ([32, 32], "input_shape", "must have at least 3 items, not 2"),
        ("224x224", "input_shape", "expected a list"),
    ],
)
def test_bad_input_shapes_are_refused(shape, location, rule):
    message = error_of(load_recipe, tiny(input_shape=shape))
    assert_names(message, f"{location}: {rule}", "Received:", "[height, width, channels]")


def test_a_name_with_a_space_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stages.1.name": "bad name"})
    assert_names(
        message,
        "stages[1].name: has characters that are not allowed here",
        "Received: 'bad name'",
        "Use letters, digits and _",
    )


def test_no_stages_is_refused():
    message = error_of(load_recipe, tiny(stages=[]))
    assert_names(
        message, "stages: must have at least 1 item, not 0", "Received: []", "Give a list of stages"
    )


def test_a_head_used_as_a_stage_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stages.2.block": "classifier"})
    assert_names(
        message,
        "stages[2].block: 'classifier' is a head, which cannot be used here",
        "Use one of:",
        "res_block",
    )


def test_a_stage_used_as_head_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"head.block": "res_block"})
    assert_names(
        message,
        "head.block: 'res_block' is a block, which cannot be used here",
        "Use one of: classifier",
    )


def test_an_unknown_block_suggests_the_closest():
    message = error_of(load_recipe, "resnet50", overrides={"stages.0.block": "bottlenek"})
    assert_names(
        message,
        "resnet50.yaml",
        "stages[0].block: unknown block 'bottlenek'",
        "Did you mean 'bottle_neck'",
    )


def test_an_unknown_stem_suggests_the_closest():
    message = error_of(load_recipe, tiny(stem={"block": "resnet_stm"}))
    assert_names(message, "stem.block: unknown block 'resnet_stm'", "Did you mean 'res_net_stem'")


def test_an_unknown_argument_suggests_the_closest():
    message = error_of(load_recipe, "resnet18", overrides={"stages.0.filter": 64})
    assert_names(
        message,
        "stages[0].filter: unknown argument 'filter' for block 'res_block'",
        "Did you mean 'filters'",
        "Its arguments:",
    )


def test_a_missing_block_argument_is_named():
    message = error_of(load_recipe, tiny(stages=[{"block": "res_block"}]))
    assert_names(
        message,
        "stages[0].filters: required argument 'filters' of block 'res_block' is missing",
        "Add `filters: ...`",
    )


def test_a_kernel_size_of_three_numbers_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stem.kernel_size": [1, 2, 3]})
    assert_names(
        message,
        "stem.kernel_size: must have at most 2 items, not 3",
        "Received: [1, 2, 3]",
        "one number (3) or two",
    )


def test_an_unknown_activation_suggests_the_closest():
    message = error_of(load_recipe, "resnet18", overrides={"stages.0.activation": "relux"})
    assert_names(
        message,
        "stages[0].activation: unknown activation 'relux'",
        "Did you mean 'relu'",
        "Received: 'relux'",
    )


def test_an_unknown_initializer_suggests_the_closest():
    message = error_of(
        load_recipe, "resnet18", overrides={"stages.0.kernel_initializer": "he_normall"}
    )
    assert_names(
        message,
        "stages[0].kernel_initializer: unknown initializer 'he_normall'",
        "Did you mean 'he_normal'",
    )


def test_exponent_numbers_without_a_dot_are_numbers(write):
    # YAML 1.1 would read 1e-3 as text and the recipe would fail with "expected a number".
    path = write("base: resnet18_cifar\nname: eps\ndefaults: {bn_epsilon: 1e-3}\n")
    assert load_recipe(path).stages[0].call.args["bn_epsilon"] == 0.001


def test_an_unknown_choice_suggests_the_closest():
    message = error_of(load_recipe, "resnet18", overrides={"stages.0.shortcut": "identiti"})
    assert_names(
        message,
        "stages[0].shortcut: must be one of",
        "Received: 'identiti'",
        "Did you mean 'identity'",
    )


def test_a_boolean_for_a_number_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"head.num_classes": True})
    assert_names(message, "head.num_classes: expected a whole number", "Received: True (a boolean)")


def test_a_key_that_is_not_a_name_is_refused():
    message = error_of(load_recipe, tiny(defaults={1: True}))
    assert_names(
        message, "defaults.1: the key 1 of defaults must be a name", "Received: 1 (a whole number)"
    )


def test_an_unused_default_is_refused():
    message = error_of(load_recipe, tiny(defaults={"use_biass": True}))
    assert_names(
        message,
        "defaults.use_biass: no block of this recipe takes an argument 'use_biass'",
        "fix its spelling",
    )


def test_a_bad_default_is_refused_even_where_every_block_overrides_it():
    message = error_of(load_recipe, "resnet18", overrides={"defaults": {"filters": "sixty-four"}})
    assert_names(message, "defaults.filters: expected a whole number", "Received: 'sixty-four'")


def test_duplicate_taps_are_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stages.1.tap": "c2"})
    assert_names(
        message, "stages[1].tap: the tap 'c2' is already used at stages[0].tap", "Rename one"
    )


def test_a_tap_named_predictions_is_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stages.3.tap": "predictions"})
    assert_names(
        message,
        "stages[3].tap: 'predictions' is the key of the head's output",
        "Choose another tap name",
    )


def test_duplicate_layer_names_are_refused():
    message = error_of(load_recipe, "resnet18", overrides={"stages.0.name": "conv3"})
    assert_names(
        message,
        "stages[1].name: the layer name 'conv3_block1' is already used at stages[0].name",
        "another `name:`",
    )


@pytest.mark.parametrize("name", ["head", "image", "preprocess", "avg_pool"])
def test_a_reserved_layer_name_is_refused(name):
    message = error_of(
        load_recipe, "resnet18", overrides={"stages.3.name": name, "stages.3.repeats": 1}
    )
    assert_names(
        message, f"stages[3].name: the layer name '{name}' is reserved", "Choose another `name:`"
    )


def test_a_long_value_is_shortened_in_the_message():
    message = error_of(
        load_recipe, "resnet18", overrides={"head.hidden_units": list(range(1, 10_000))}
    )
    assert_names(
        message,
        "head.hidden_units: must have at most 16 items, not 9999",
        "Received: [1, 2, 3, 4, 5, 6, 7, 8, ...]",
    )
    assert len(message) < 400


# === Arguments of load_recipe / build ===


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        (
            {"stages.9.block": "res_block"},
            [
                "overrides['stages.9.block']: '9' is not an index of stages, which has 4 items",
                "from 0 to 3",
            ],
        ),
        (
            {"stages.x.block": "res_block"},
            ["overrides['stages.x.block']: 'x' is not an index of stages"],
        ),
        (
            {"name.first": "x"},
            [
                "overrides['name.first']: name is 'resnet18', a str, which has no 'first'",
                "Override 'name' itself",
            ],
        ),
        (
            {"stages..block": "x"},
            ["overrides['stages..block']: a path is keys joined by dots, with no empty part"],
        ),
        ({"": 1}, ["overrides['']: a path is keys joined by dots"]),
        ({"stemm.filters": 3}, ["stemm: unknown key 'stemm'", "Did you mean 'stem'"]),
    ],
)
def test_bad_override_paths_are_refused(overrides, fragments):
    assert_names(
        error_of(load_recipe, "resnet18", overrides=overrides), "resnet18.yaml", *fragments
    )


@pytest.mark.parametrize("overrides", [["stages.0.block"], {1: "x"}, "stages.0.block=x"])
def test_overrides_that_are_not_a_mapping_of_paths_are_refused(overrides):
    assert_names(
        error_of(load_recipe, "resnet18", overrides=overrides),
        "overrides: must be a mapping of dotted paths to values",
        "Received:",
    )


@pytest.mark.parametrize(
    "num_classes, rule",
    [(0, "must be at least 1"), ("5", "without quotes: 5"), (10**9, "must be at most 100000")],
)
def test_a_bad_num_classes_is_refused(num_classes, rule):
    assert_names(
        error_of(load_recipe, "resnet18", num_classes=num_classes), "head.num_classes:", rule
    )


def test_num_classes_without_a_head_is_refused():
    message = error_of(load_recipe, tiny(head=None), num_classes=5)
    assert_names(
        message,
        "head: num_classes was given, but the recipe has no head",
        "Add `head: {block: classifier}`",
    )


def test_input_shape_that_is_not_a_list_is_refused():
    assert_names(
        error_of(load_recipe, "resnet18", input_shape=224),
        "input_shape: expected a list",
        "Received: 224",
    )


# === Compositions that cannot work (built) ===


def test_an_input_too_small_for_resnet50_names_the_stage_and_the_smallest_input():
    message = error_of(build, "resnet50", input_shape=(16, 16, 3))
    assert_names(
        message,
        "resnet50.yaml",
        "input_shape: a 16x16 input is too small for this network's downsampling",
        "at stages[3] (layer 'conv5_block1', BottleNeck) the map is 1x1, smaller than its "
        "downsampling factor 2",
        "The smallest input that works is 17x17: use input_shape: [17, 17, 3] or larger",
    )


def test_the_smallest_input_reported_for_resnet50_builds():
    model = build("resnet50", input_shape=(17, 17, 3), include_top=False)
    assert tuple(model.output.shape[1:3]) == (1, 1)


def test_an_input_too_small_for_valid_padding_names_the_stage():
    message = error_of(build, "inception_resnet_v2", input_shape=(74, 74, 3))
    assert_names(
        message,
        "inception_resnet_v2.yaml",
        "at stages[4] (layer 'mixed_7a', ReductionB) the map is 2x2, too small for its kernels",
        "The smallest input that works is 75x75: use input_shape: [75, 75, 3]",
    )


def test_a_rectangular_input_too_small_in_one_side_is_refused():
    message = error_of(build, tiny(input_shape=[16, 1, 3]))
    assert_names(
        message,
        "a 16x1 input is too small",
        "at stages[1] (layer 'layer2'",
        "the map is 16x1",
        "smallest input that works is 2x2",
    )


def test_a_network_that_no_input_fits_is_refused():
    stages = [{"name": f"s{i}", "block": "conv_bn", "filters": 4, "strides": 2} for i in range(14)]
    message = error_of(build, tiny(stages=stages, head=None), include_top=False)
    assert_names(
        message,
        "is too small for this network's downsampling",
        "No input up to 8192x8192 is large enough: remove strided stages",
    )


def test_an_identity_shortcut_where_the_shape_changes_is_refused():
    message = error_of(
        build, tiny(stages=[tiny()["stages"][0], {**tiny()["stages"][1], "shortcut": "identity"}])
    )
    assert_names(
        message,
        IN_CODE,
        "stages[1]: Layer 'layer2' (ResBlock)",
        "An identity shortcut needs the block to keep its input shape",
        "maps 4 channels to 8 with strides=2",
        "Use shortcut='projection'",
    )


def test_a_zero_pad_shortcut_that_removes_channels_is_refused():
    stages = [tiny()["stages"][0], {**tiny()["stages"][1], "filters": 2, "shortcut": "zero_pad"}]
    message = error_of(build, tiny(stages=stages))
    assert_names(
        message,
        "stages[1]: Layer 'layer2'",
        "can only add channels",
        "the input has 4 channels and the block outputs 2",
        "shortcut='projection'",
    )


def test_an_unknown_feature_lists_the_taps():
    message = error_of(build, tiny(), features=["c9"])
    assert_names(
        message,
        "features: unknown feature 'c9'. This recipe taps: c1, c2, c3",
        "set `tap: c9` on a stage",
    )


def test_features_as_a_string_is_refused():
    assert_names(
        error_of(build, tiny(), features="c2"),
        "features: must be a list of tap names",
        "Received: features='c2'",
    )


def test_an_unknown_pooling_is_refused():
    message = error_of(build, tiny(), include_top=False, pooling="median")
    assert_names(message, 'pooling: must be None, "avg" or "max"', "Received: pooling='median'")


def test_include_top_without_a_head_is_refused():
    message = error_of(build, tiny(head=None))
    assert_names(message, "head: include_top=True, but the recipe has no head", "include_top=False")


def test_every_shipped_recipe_reads_and_validates():
    for name in (
        "resnet18",
        "resnet18_cifar",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "inception_resnet_v2",
    ):
        raw, source = read_recipe(name)
        assert load_recipe(raw).name == name, source


# === stride_at_block: which block of a stage strides ===


def test_stride_at_block_with_an_unknown_value():
    raw = tiny()
    raw["stages"][1]["stride_at_block"] = "middle"
    message = error_of(load_recipe, raw)
    assert "stages[1].stride_at_block" in message
    assert "'first'" in message and "'last'" in message and "middle" in message


def test_stride_at_block_on_a_block_without_strides():
    raw = tiny()
    raw["stages"].append({"block": "post_norm", "stride_at_block": "last"})
    message = error_of(load_recipe, raw)
    assert "stages[2].stride_at_block: the block 'post_norm' takes no `strides`" in message
    assert "Remove stride_at_block from this stage" in message


def test_stride_at_block_last_strides_the_last_block():
    raw = tiny()
    raw["stages"][1].update(repeats=3, stride_at_block="last")
    model = build(raw)
    strides = [model.get_layer(f"layer2_block{j}").strides for j in (1, 2, 3)]
    assert strides == [1, 1, 2]


# === The family's arguments (ResNeXt, SE): docs/concepts/cardinality_and_width.md ===


def stage_with(index: int, **args) -> dict:
    raw = tiny()
    raw["stages"][index] = {**raw["stages"][index], **args}
    return raw


@pytest.mark.parametrize(
    "raw, location, fragments",
    [
        (
            stage_with(1, block="conv_bn", groups=3),
            "stages[1].groups",
            ("3 groups do not divide the 8 output channels", "filters=6"),
        ),
        (
            stage_with(1, block="conv_bn", filters=12, groups=3),
            "stages[1]",
            ("multiple of 3, but its input has 4", "divides both"),
        ),
        (
            stage_with(0, block="bottle_neck", base_width=4),
            "stages[0].base_width",
            ("int(4 * 4 / 64) = 0 channels", "base_width >= 16"),
        ),
        (stage_with(0, se_ratio=1.5), "stages[0].se_ratio", ("at most 1.0", "1.5")),
        (stage_with(0, se_ratio=0.0), "stages[0].se_ratio", ("greater than 0.0",)),
    ],
)
def test_family_arguments_that_cannot_work_are_located(raw, location, fragments):
    assert_names(error_of(build, raw), f"{IN_CODE}: {location}: ", *fragments)
