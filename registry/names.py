"""Names in messages and listings: the closest valid ones ("did you mean"), and natural order.

One rule for every "did you mean" of the project, so a misspelt block, key,
activation or stage name is answered the same way everywhere.
"""

import difflib
import fnmatch
import re
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's default similarity: 'bottlenek' finds 'bottle_neck', 'foo' finds nothing


def closest(name: object, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` names of `known` closest to `name`, best first."""
    return difflib.get_close_matches(str(name), list(known), n=n, cutoff=CUTOFF)


def did_you_mean(name: object, known: Iterable[str], n: int = 3) -> str:
    """`" Did you mean 'bottle_neck'?"`, or "" when nothing is close."""
    close = closest(name, known, n)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def unknown_name_message(
    what: str, name, known: Iterable[str], where: str = "", listed: str = "Registered"
) -> str:
    """`unknown block 'bottlenek'. Did you mean 'bottle_neck'? Registered: ...`"""
    known = list(known)
    return (
        f"unknown {what} {name!r}{where}.{did_you_mean(name, known)} "
        f"{listed}: {', '.join(natural_sorted(known))}"
    )


def snake_case(class_name: str) -> str:
    """The name Keras gives a layer of class `class_name` by default: `BottleNeck` -> `bottle_neck`.

    Keras' own rule (keras.src.utils.naming.to_snake_case), written out so
    that a block's registry name follows from its class by that one rule:
    `ResBlock` -> `res_block`, `ConvBN` -> `conv_bn`, `InceptionResBlock35`
    -> `inception_res_block35`.
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def natural_key(name: str) -> tuple[str, list[int]]:
    """Names that differ only in their numbers sort together, by those numbers.

    resnet18 < resnet34 < resnet50 < resnet101 < resnet152, then
    resnet18_cifar < resnet20_cifar < ... < resnet110_cifar: the name with
    its numbers blanked out ("resnet#", "resnet#_cifar") decides first,
    alphabetically, then the numbers by value.
    """
    return re.sub(r"\d+", "#", name), [int(number) for number in re.findall(r"\d+", name)]


def natural_sorted(names: Iterable[str]) -> list[str]:
    """`names` in natural order (`natural_key`)."""
    return sorted(names, key=natural_key)


def filter_names(
    names: Iterable[str], pattern: str | None = None, exclude: str | None = None
) -> list[str]:
    """`names` that match the fnmatch `pattern` and not `exclude`, in natural order."""
    names = list(names)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    if exclude:
        names = [n for n in names if not fnmatch.fnmatch(n, exclude)]
    return natural_sorted(names)
