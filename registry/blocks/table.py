"""The block table: names to Keras layer classes, as small as torchvision's registry.

Register (a duplicate name is an error, except a class defined again, as
when a notebook cell runs twice), get (an unknown name is an error listing
the closest names), list (fnmatch include/exclude, natural order), and
`trial_blocks()` to register blocks for a while and forget them again.
Old names of built-in blocks (`add_alias`) still resolve, with a
FutureWarning, but are not listed.
"""

import contextlib
import dataclasses
import importlib
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from registry.blocks import signatures
from registry.blocks.arguments import (
    args_model,
    class_parameters,
    parameters_model,
    table_parameters,
)
from registry.names import filter_names, unknown_name_message

KINDS = ("stem", "block", "head")


@dataclass(frozen=True)
class Entry:
    """A registered block: its name, kind, argument model and where its class is.

    `cls` imports the class on first use: the built-in blocks are entered
    from signatures.py, so listing and validating do not load Keras. An old
    name (`add_alias`) has `alias_of`, the name to use instead, and `preset`,
    the arguments the old name stood for (Inception-ResNet-V1's widths); a
    recipe's own arguments override them.
    """

    name: str
    kind: str
    args: type[BaseModel]
    module: str
    class_name: str
    parameters: tuple[str, ...]
    loaded: list = field(default_factory=list, repr=False, compare=False)
    alias_of: str | None = None
    preset: Mapping = field(default_factory=dict)

    @property
    def cls(self) -> type:
        if not self.loaded:
            found = importlib.import_module(self.module)
            for part in self.class_name.split("."):
                found = getattr(found, part)
            self.loaded.append(found)
        return self.loaded[0]

    def takes(self, argument: str) -> bool:
        """Whether the block's constructor has the argument."""
        return argument in self.parameters

    def rename_message(self) -> str:
        """What an old name's FutureWarning says: the new name and the arguments it sets."""
        preset = ", ".join(f"{k}: {v}" for k, v in self.preset.items())
        write = f"block: {self.alias_of}" + (f", {preset}" if preset else "")
        return (
            f"'{self.name}' is the old name of the block '{self.alias_of}'"
            + (f" with {preset}" if preset else "")
            + f". Write `{write}`; the old name will stop working in the next release."
        )


_ENTRIES: dict[str, Entry] = {}
_ALIASES: dict[str, Entry] = {}


def add_block(
    name: str, cls: type, kind: str = "block", args: type[BaseModel] | None = None
) -> Entry:
    """Registers `cls` under `name`; see `register_block`."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"A block name must be a Python identifier (letters, digits, _). Received: {name!r}"
        )
    if name in _ALIASES:
        raise ValueError(
            f"'{name}' is the old name of the built-in block '{_ALIASES[name].alias_of}', "
            "kept for the recipes that use it. Choose another name."
        )
    if name in _ENTRIES and not _redefined(_ENTRIES[name], cls):
        raise ValueError(
            f"An entry is already registered under the name '{name}' "
            f"({_ENTRIES[name].class_name}). Choose another name."
        )
    import keras

    from resblocks.checks import check_one_of

    check_one_of("kind", kind, KINDS)
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise TypeError(f"Block '{name}' must be a keras.layers.Layer subclass. Received: {cls!r}")
    if keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is not cls:
        # Saved models name their layers' classes; make this one findable.
        keras.saving.register_keras_serializable(package="resblocks_user")(cls)
    parameters = tuple(name for name, _, _ in class_parameters(cls))
    entry = Entry(
        name, kind, args or args_model(cls), cls.__module__, cls.__qualname__, parameters, [cls]
    )
    _ENTRIES[name] = entry
    return entry


def add_builtin_blocks() -> None:
    """Enters the built-in blocks and their old names from signatures.py.

    Their classes are imported on first use.
    """
    for name, kind, module, class_name, rows in signatures.BLOCKS:
        parameters = table_parameters(rows)
        _ENTRIES[name] = Entry(
            name,
            kind,
            parameters_model(class_name, parameters),
            module,
            class_name,
            tuple(p[0] for p in parameters),
        )
    for old, new, preset in signatures.OLD_NAMES:
        add_alias(old, new, preset)


def add_alias(old: str, new: str, preset: Mapping | None = None) -> Entry:
    """Makes `old`, a former name, resolve to the block `new` (with `preset` arguments), warning.

    Not listed by `list_blocks` nor in the recipe schema: recipes already
    written keep working, new ones use the new name.
    """
    target = _ENTRIES[new]
    _ALIASES[old] = dataclasses.replace(target, name=old, alias_of=new, preset=dict(preset or {}))
    return _ALIASES[old]


def _redefined(old: Entry, new: type) -> bool:
    """Whether `new` is `old`'s class defined again (a re-run notebook cell).

    Same module and qualified name.
    """
    return (old.module, old.class_name) == (new.__module__, new.__qualname__)


def register_block(name: str, *, kind: str = "block", args: type[BaseModel] | None = None):
    """Class decorator: makes a Keras layer usable by name in recipes.

    Args:
        name: str. The name recipes use (`block: name`).
        kind: str. "stem", "block" (a stage) or "head".
        args: pydantic model or None. Validates the recipe's arguments;
            by default derived from the constructor's signature and
            `registry.blocks.arguments.RULES`.

    Example:
        @register_block("se_bottleneck")
        class SEBottleNeck(keras.layers.Layer): ...
    """

    def decorate(cls):
        add_block(name, cls, kind, args)
        return cls

    return decorate


def get_block(name: str, where: str = "") -> Entry:
    """The entry registered under `name`; an unknown name lists the closest.

    An old name gives its alias entry and a FutureWarning naming the new
    name, prefixed by `where` (a recipe location such as "stages[0].block: ").
    """
    try:
        return _ENTRIES[name]
    except (KeyError, TypeError):
        pass
    try:
        entry = _ALIASES[name]
    except (KeyError, TypeError):
        raise ValueError(unknown_name_message("block", name, list(_ENTRIES))) from None
    warnings.warn(where + entry.rename_message(), FutureWarning, stacklevel=2)
    return entry


def list_blocks(
    pattern: str | None = None, exclude: str | None = None, kind: str | None = None
) -> list[str]:
    """Registered block names in natural order, filtered by fnmatch patterns and kind."""
    names = [n for n, e in _ENTRIES.items() if kind is None or e.kind == kind]
    return filter_names(names, pattern, exclude)


@contextlib.contextmanager
def trial_blocks(*, keep: bool = False) -> Iterator[None]:
    """Blocks registered (or replaced) inside the `with` are forgotten when it ends.

    The table is restored as it was on entry. With `keep=True` it is
    restored only if the body raises, so a plugin that fails half-way leaves
    nothing behind while one that imports cleanly stays registered.

    Example:
        with trial_blocks():
            register_block("my_block")(MyBlock)
            build(recipe_using_my_block)
        # 'my_block' is unknown again here.
    """
    saved = dict(_ENTRIES)
    try:
        yield
    except BaseException:
        _restore(saved)
        raise
    if not keep:
        _restore(saved)


def _restore(saved: dict[str, Entry]) -> None:
    _ENTRIES.clear()
    _ENTRIES.update(saved)
