"""The Markdown reference of every registered block, generated from the code.

For each block: what it is (its docstring), its recipe arguments (from its
argument model: types, bounds, defaults, and the docstring's words), its
shapes on an example input, and a Mermaid picture of its inside read from
the built layer. `resblocks reference -o docs/reference/blocks.md` writes
it; a test fails when the committed file and the code disagree.
"""

import inspect
import re
from typing import Any

import keras

from registry.blocks import get_block, list_blocks
from registry.keras_compat import sublayers
from resblocks import ConvBN, ScaledResidual, ZeroPadShortcut

# name -> (recipe arguments, input shape) of the example each section shows.
EXAMPLES: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "res_net_stem": ({}, (224, 224, 3)),
    "cifar_stem": ({}, (32, 32, 3)),
    "inception_res_net_stem": ({}, (299, 299, 3)),
    "pre_act_stem": ({}, (224, 224, 3)),
    "deep_stem": ({}, (224, 224, 3)),
    "conv_bn": ({"filters": 64, "kernel_size": 3, "strides": 2}, (56, 56, 32)),
    "res_block": ({"filters": 128, "strides": 2}, (56, 56, 64)),
    "bottle_neck": ({"filters": 64}, (56, 56, 64)),
    "pre_act_res_block": ({"filters": 128, "strides": 2}, (56, 56, 64)),
    "pre_act_bottle_neck": ({"filters": 64}, (56, 56, 64)),
    "res2_net_bottleneck": ({"filters": 64}, (56, 56, 64)),
    "res_nest_bottleneck": ({"filters": 64}, (56, 56, 64)),
    "selective_kernel_block": ({"filters": 64}, (56, 56, 64)),
    "selective_kernel_bottleneck": ({"filters": 64}, (56, 56, 64)),
    "post_norm": ({}, (7, 7, 2048)),
    "mixed5b": ({}, (35, 35, 192)),
    "inception_res_block35": ({}, (35, 35, 320)),
    "reduction_a": ({}, (35, 35, 320)),
    "inception_res_block17": ({}, (17, 17, 1088)),
    "reduction_b": ({}, (17, 17, 1088)),
    "inception_res_block8": ({}, (8, 8, 2080)),
    "classifier": ({"num_classes": 5, "hidden_units": [1024], "dropout": 0.5}, (7, 7, 2048)),
    "embedding": ({"units": 512, "dropout": 0.6}, (3, 3, 1792)),
}

# "int. The number of filters": the type is in the table already.
TYPE_PREFIX = re.compile(
    r"^(int|float|bool|str|list of int|list of str or None|int or \[int, int\]|str or None|float "
    r"or None)\. "
)

HEADER = """# Block reference

Every block a recipe can name (`block: NAME`), generated from the code by
`resblocks reference -o docs/reference/blocks.md` (`make docs`); a test
fails when this file and the code disagree. Arguments are checked when a
recipe loads: the bounds below are part of the argument model. Shapes are
`height×width×channels` without the batch axis. Each picture is the built
example layer, read from its sublayers.
"""


def blocks_reference(names: list[str] | None = None) -> str:
    """The reference page for `names` (default: every registered block)."""
    names = names if names is not None else list_blocks()
    kinds = {"stem": [], "block": [], "head": []}
    for name in names:
        kinds[get_block(name).kind].append(name)
    out = [HEADER]
    out.append("| block | kind | class | " + "example |\n|---|---|---|---|")
    for kind in kinds:
        for name in kinds[kind]:
            entry = get_block(name)
            out[-1] += (
                f"\n| [`{name}`](#{name}) | {kind} | `{entry.cls.__module__}.{entry.cls.__name__}` "
                f"| {_example_line(name)} |"
            )
    out[-1] += "\n"
    for kind in kinds:
        for name in kinds[kind]:
            out.append(block_section(name))
    return "\n".join(out)


def _example_line(name: str) -> str:
    if name not in EXAMPLES:
        return ""
    layer, shape = example_layer(name)
    return f"{_shape(shape)} → {_shape(layer.compute_output_shape((None, *shape))[1:])}"


def example_layer(name: str) -> tuple[keras.layers.Layer, tuple[int, ...]]:
    """The block built with its EXAMPLES arguments on its example input shape."""
    args, shape = EXAMPLES[name]
    entry = get_block(name)
    validated = entry.args.model_validate(args).model_dump(exclude_unset=True)
    layer = entry.cls(**validated, name=name)
    layer.build((None, *shape))
    return layer, shape


def block_section(name: str) -> str:
    """One block's section: description, arguments, example shapes, picture."""
    entry = get_block(name)
    doc = _parse_doc(inspect.getdoc(entry.cls) or "")
    for parent in entry.cls.__mro__[1:]:  # CifarStem: "Same arguments as ResNetStem"
        for arg, text in _parse_doc(parent.__doc__ and inspect.cleandoc(parent.__doc__) or "")[
            "args"
        ].items():
            doc["args"].setdefault(arg, text)
    out = [
        f"## {name}",
        "",
        f"`{entry.cls.__module__}.{entry.cls.__name__}`, a {entry.kind}. {doc['summary']}",
        "",
    ]
    if doc["body"]:
        out += [doc["body"], ""]
    out += _arguments(entry, doc["args"])
    if doc["shapes"]:
        out += [f"- {line}" for line in doc["shapes"]] + [""]
    if name in EXAMPLES:
        layer, shape = example_layer(name)
        args = ", ".join(f"{k}: {v}" for k, v in EXAMPLES[name][0].items())
        out_shape = layer.compute_output_shape((None, *shape))[1:]
        out += [
            f"Example: `{{block: {name}{', ' + args if args else ''}}}` on {_shape(shape)} gives "
            f"{_shape(out_shape)}, {layer.count_params():,} parameters.",
            "",
            "```mermaid",
            block_mermaid(layer, shape),
            "```",
            "",
        ]
    return "\n".join(out)


def _arguments(entry, described: dict[str, str]) -> list[str]:
    properties = entry.args.model_json_schema().get("properties", {})
    if not properties:
        return ["Arguments: none.", ""]
    rows = ["| argument | type and bounds | default | meaning |", "|---|---|---|---|"]
    required = set(entry.args.model_json_schema().get("required", []))
    for name, prop in properties.items():
        default = "required" if name in required else f"`{_yaml(prop.get('default'))}`"
        meaning = TYPE_PREFIX.sub("", described.get(name, "")).replace("|", "\\|")
        rows.append(f"| `{name}` | {_type(prop)} | {default} | {meaning} |")
    return rows + [""]


def _type(prop: dict) -> str:
    """'integer, 1 to 8192', 'one of avg, max', 'list of integer (2 items)'."""
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        text = f"list of {_type(prop.get('items', {}))}"
        if prop.get("minItems") == prop.get("maxItems") and "minItems" in prop:
            text += f", {prop['minItems']} items"
        elif "maxItems" in prop:
            text += f", at most {prop['maxItems']}"
        return text
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if low is None and high is None:
        return kind
    left = "(" if "exclusiveMinimum" in prop else "["
    right = ")" if "exclusiveMaximum" in prop else "]"
    return (
        f"{kind} in {left}{_yaml(low) if low is not None else '-inf'}, "
        f"{_yaml(high) if high is not None else 'inf'}{right}"
    )


def _yaml(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _shape(shape) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


def _parse_doc(doc: str) -> dict[str, Any]:
    """Summary, body, Args and shape lines of a Google-style class docstring.

    A "Keyword-only args ...:" paragraph is an Args section too, and an entry
    may name several arguments (`bn_epsilon, bn_momentum: float. ...`).
    """
    paragraphs = doc.split("\n\n")
    summary = paragraphs[0].replace("\n", " ") if paragraphs else ""
    body, args, shapes = [], {}, []
    for paragraph in paragraphs[1:]:
        lines = paragraph.splitlines()
        if lines[0].strip() in ("Args:", "Modes:") or lines[0].startswith("Keyword-only args"):
            current: list[str] = []
            for line in lines[1:]:
                match = re.match(r"\s{4}(\w+(?:, \w+)*): (.*)", line)
                if match and not line.startswith(" " * 8):
                    current = match.group(1).split(", ")
                    args.update(dict.fromkeys(current, match.group(2).strip()))
                else:
                    for name in current:
                        args[name] += " " + line.strip()
        elif lines[0].startswith(("Input shape", "Output shape", "Call arguments")):
            shapes += [" ".join(line.strip() for line in lines)]
        else:
            body.append(" ".join(line.strip() for line in lines))
    # A shapes paragraph may hold both lines.
    split = []
    for line in shapes:
        split += [part.strip() for part in re.split(r"(?=Output shape:)", line) if part.strip()]
    return {"summary": summary, "body": "\n\n".join(body), "args": args, "shapes": split}


def describe(layer: keras.layers.Layer) -> str:
    """A short label: `3x3 conv 64 /2, BN, relu`, `3x3 max-pool /2`, `dense 5, softmax`."""
    if isinstance(layer, ConvBN):
        conv = _conv_text(layer.conv, layer.strides)
        return f"{conv}, BN" + (f", {layer.activation}" if layer.activation else "")
    if isinstance(layer, keras.layers.Conv2D):
        return _conv_text(layer, layer.strides[0]) + (", bias" if layer.use_bias else "")
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "avg"
        size = "x".join(map(str, layer.pool_size))
        return f"{size} {kind}-pool" + (f" /{layer.strides[0]}" if layer.strides[0] > 1 else "")
    if isinstance(layer, keras.layers.GlobalAveragePooling2D):
        return "global avg-pool"
    if isinstance(layer, keras.layers.GlobalMaxPooling2D):
        return "global max-pool"
    if isinstance(layer, keras.layers.ZeroPadding2D):
        return "zero-pad borders"
    if isinstance(layer, keras.layers.Dense):
        activation = _activation_name(layer.activation)
        return f"dense {layer.units}" + (f", {activation}" if activation != "linear" else "")
    if isinstance(layer, keras.layers.Dropout):
        return f"dropout {layer.rate:g}"
    if isinstance(layer, keras.layers.Activation):
        return _activation_name(layer.activation)
    if isinstance(layer, ZeroPadShortcut):
        return f"zero-pad to {layer.filters} channels" + (
            f", /{layer.strides}" if layer.strides > 1 else ""
        )
    if isinstance(layer, keras.layers.BatchNormalization):
        return "BN"
    return type(layer).__name__


def _activation_name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)


def _conv_text(conv: keras.layers.Conv2D, strides: int) -> str:
    size = "x".join(map(str, conv.kernel_size))
    return (
        f"{size} conv {conv.filters}"
        + (f" /{strides}" if strides > 1 else "")
        + (
            " valid"
            if conv.padding == "valid" and conv.kernel_size != (1, 1) and strides == 1
            else ""
        )
    )


class _Graph:
    """Mermaid lines with numbered nodes; shapes follow the layers down."""

    def __init__(self):
        self.lines = ["flowchart TB"]
        self.count = 0

    def node(self, text: str, shape=None, round_: bool = False) -> str:
        self.count += 1
        name = f"n{self.count}"
        label = text + (f"<br/>{_shape(shape[1:])}" if shape else "")
        self.lines.append(f'  {name}{"((" if round_ else "["}"{label}"{"))" if round_ else "]"}')
        return name

    def edge(self, a: str, b: str, label: str = "", dashed: bool = False) -> None:
        arrow = "-.->" if dashed else "-->"
        text = f'|"{label}"|' if label else ""
        self.lines.append(f"  {a} {arrow}{text} {b}")

    def chain(self, start: str, shape: tuple, layers) -> tuple[str, tuple]:
        """Draws `layers` one after another from node `start`; returns the end and its shape."""
        for layer in layers:
            if layer is None:
                continue
            shape = tuple(layer.compute_output_shape(shape))
            node = self.node(describe(layer), shape)
            self.edge(start, node)
            start = node
        return start, shape


def block_mermaid(layer: keras.layers.Layer, input_shape: tuple[int, ...]) -> str:
    """A Mermaid flowchart of a built block's inside, input at the top."""
    graph = _Graph()
    shape = (None, *input_shape)
    x = graph.node("x", shape, round_=True)
    branches = getattr(layer, "branches", None)
    if branches:
        ends = [graph.chain(x, shape, branch) for branch in branches]
        mixed_shape = tuple(layer.mixed.compute_output_shape([end_shape for _, end_shape in ends]))
        mixed = graph.node("concat", mixed_shape)
        for end, _ in ends:
            graph.edge(end, mixed)
        if isinstance(getattr(layer, "residual", None), ScaledResidual):
            up = graph.node(
                describe(layer.up) + ", linear", tuple(layer.up.compute_output_shape(mixed_shape))
            )
            graph.edge(mixed, up)
            total = graph.node(f"x + {layer.scale:g}·F", round_=True)
            graph.edge(up, total, "F")
            graph.edge(x, total, "identity")
            graph.chain(total, shape, [layer.act])
    elif getattr(layer, "pre_activation", False):  # BN-ReLU first, nothing after the sum
        pre, pre_shape = graph.chain(x, shape, [layer.preact_bn, layer.preact_relu])
        end, _ = graph.chain(pre, pre_shape, layer.branch())
        if layer.shortcut != "none":
            total = graph.node("+", round_=True)
            graph.edge(end, total, "F(x)")
            if layer.downsample is None:
                graph.edge(x, total, "identity")
            else:
                short = graph.node(
                    describe(layer.downsample), tuple(layer.downsample.compute_output_shape(shape))
                )
                # A projection reads the pre-activated input; a subsample, x itself.
                source = x if isinstance(layer.downsample, ZeroPadShortcut) else pre
                graph.edge(source, short, dashed=True)
                graph.edge(short, total, dashed=True)
    elif hasattr(layer, "conv1") and isinstance(getattr(layer, "shortcut", None), str):
        end, end_shape = graph.chain(
            x, shape, [getattr(layer, n, None) for n in ("conv1", "conv2", "conv3")]
        )
        if layer.shortcut == "none":
            graph.chain(end, end_shape, [layer.act])
        else:
            total = graph.node("+", round_=True)
            graph.edge(end, total, "F(x)")
            if layer.downsample is None:
                graph.edge(x, total, "identity")
            else:
                short = graph.node(
                    describe(layer.downsample), tuple(layer.downsample.compute_output_shape(shape))
                )
                graph.edge(x, short, dashed=True)
                graph.edge(short, total, dashed=True)
            graph.chain(total, end_shape, [layer.act])
    else:
        # A block lists its `sublayers` in call order; otherwise Keras keeps
        # a layer's children in the order they were assigned.
        children = layer.sublayers if hasattr(layer, "sublayers") else sublayers(layer)
        graph.chain(x, shape, children)
    return "\n".join(graph.lines)
