"""The block registry: names to Keras layer classes, as small as torchvision's.

Register (a duplicate name is an error, except a class defined again, as
when a notebook cell runs twice), get (an unknown name is an error listing
the closest names), list (fnmatch include/exclude, sorted).
"""

import fnmatch
from dataclasses import dataclass

import keras
from pydantic import BaseModel

from registry.arguments import args_model
from registry.errors import unknown_name_message

KINDS = ("stem", "block", "head")


@dataclass(frozen=True)
class Entry:
    """A registered block: its name, class, kind and argument model."""

    name: str
    cls: type
    kind: str
    args: type[BaseModel]


_ENTRIES: dict[str, Entry] = {}


def add_block(name: str, cls: type, kind: str = "block", args: type[BaseModel] | None = None) -> Entry:
    """Registers `cls` under `name`; see `register_block`."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"A block name must be a Python identifier (letters, digits, _). Received: {name!r}"
        )
    if name in _ENTRIES and not _redefined(_ENTRIES[name].cls, cls):
        raise ValueError(
            f"An entry is already registered under the name '{name}' "
            f"({_ENTRIES[name].cls.__qualname__}). Choose another name."
        )
    if kind not in KINDS:
        raise ValueError(f"Invalid value received for argument `kind`: expected one of {', '.join(KINDS)}. Received: kind={kind!r}")
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise TypeError(f"Block '{name}' must be a keras.layers.Layer subclass. Received: {cls!r}")
    if keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is not cls:
        # Saved models name their layers' classes; make this one findable.
        keras.saving.register_keras_serializable(package="resblocks_user")(cls)
    entry = Entry(name, cls, kind, args or args_model(cls))
    _ENTRIES[name] = entry
    return entry


def _redefined(old: type, new: type) -> bool:
    """Whether `new` is `old` defined again: same module and qualified name (a re-run notebook cell)."""
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


def register_block(name: str, *, kind: str = "block", args: type[BaseModel] | None = None):
    """Class decorator: makes a Keras layer usable by name in recipes.

    Args:
        name: str. The name recipes use (`block: name`).
        kind: str. "stem", "block" (a stage) or "head".
        args: pydantic model or None. Validates the recipe's arguments;
            by default derived from the constructor's signature and
            `registry.arguments.RULES`.

    Example:
        @register_block("se_bottleneck")
        class SEBottleNeck(keras.layers.Layer): ...
    """

    def decorate(cls):
        add_block(name, cls, kind, args)
        return cls

    return decorate


def get_block(name: str) -> Entry:
    """The entry registered under `name`; an unknown name lists the closest."""
    try:
        return _ENTRIES[name]
    except (KeyError, TypeError):
        raise ValueError(unknown_name_message("block", name, list(_ENTRIES))) from None


def list_blocks(pattern: str | None = None, exclude: str | None = None, kind: str | None = None) -> list[str]:
    """Sorted registered block names, filtered by fnmatch patterns and kind."""
    names = [n for n, e in _ENTRIES.items() if kind is None or e.kind == kind]
    return _filter(names, pattern, exclude)


def list_models(pattern: str | None = None, exclude: str | None = None) -> list[str]:
    """Sorted names of the shipped recipes, filtered by fnmatch patterns."""
    from recipes.loader import recipe_names  # here: recipes.loader itself imports registry

    return _filter(recipe_names(), pattern, exclude)


def _filter(names: list[str], pattern: str | None, exclude: str | None) -> list[str]:
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    if exclude:
        names = [n for n in names if not fnmatch.fnmatch(n, exclude)]
    return sorted(names)
