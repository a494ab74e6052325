"""A recipe's `plugins:`: Python modules with custom blocks, imported only when allowed.

A recipe file is data, but a plugin is code that runs with the user's
rights, so loading a recipe that names plugins is refused unless the caller
says `allow_plugins=True` (`--allow-plugins` on the command line). Each
plugin is imported once per process: loading the recipe again reuses the
module instead of running its `@register_block` a second time, which the
registry would refuse as a duplicate.
"""

import contextlib
import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from registry.blocks import trial_blocks
from registry.errors import Problem, RecipeError, short_repr

MAX_PLUGINS = 32

_BY_PATH: dict[Path, ModuleType] = {}  # resolved .py path -> its module


@contextlib.contextmanager
def trial_plugins() -> Iterator[None]:
    """Plugins imported inside the `with` are forgotten at its end, with the blocks they registered.

    For notebooks and tests that load plugin recipes again and again: after
    the block, the same plugin files import afresh.
    """
    imported = dict(_BY_PATH)
    try:
        with trial_blocks():
            yield
    finally:
        _BY_PATH.clear()
        _BY_PATH.update(imported)


def check_plugins(plugins, source: str) -> list[str]:
    """The plugin list of a recipe, or a RecipeError saying what it should be."""
    if plugins is None:
        return []
    if not isinstance(plugins, list) or not all(isinstance(p, str) and p for p in plugins):
        raise RecipeError(
            source,
            Problem(
                "plugins",
                "must be a list of module names (my_blocks) or .py paths (blocks/se.py). "
                f"Received: {short_repr(plugins)}",
            ),
        )
    if len(plugins) > MAX_PLUGINS:
        raise RecipeError(
            source,
            Problem(
                "plugins",
                f"at most {MAX_PLUGINS} plugins. Received: {len(plugins)}. Gather the blocks into "
                "fewer modules.",
            ),
        )
    for i, plugin in enumerate(plugins):
        if not (plugin.endswith(".py") or all(part.isidentifier() for part in plugin.split("."))):
            raise RecipeError(
                source,
                Problem(
                    f"plugins[{i}]",
                    f"{short_repr(plugin)} is neither a module name (my_pkg.blocks) nor a path "
                    "ending in .py. Fix the entry.",
                ),
            )
    return plugins


def import_plugins(plugins: list[str], source: str, *, allowed: bool) -> None:
    """Imports each plugin so its blocks are registered, if the caller allows it.

    Args:
        plugins: module names or .py paths (relative paths are taken from the
            current directory; recipe files make theirs absolute on reading).
        source: the recipe, for messages.
        allowed: bool. False refuses with a RecipeError saying how to allow.

    Raises:
        RecipeError: plugins are not allowed, or one fails to import.
    """
    if not plugins:
        return
    if not allowed:
        names = ", ".join(repr(p) for p in plugins)
        raise RecipeError(
            source,
            Problem(
                "plugins",
                f"this recipe wants to run Python code: it imports {names}. A plugin can do "
                "anything your "
                "account can, so it runs only if you allow it: pass allow_plugins=True to "
                "load_recipe/build, "
                "or --allow-plugins on the command line, once you trust the code.",
            ),
        )
    for i, plugin in enumerate(plugins):
        _import_plugin(plugin, f"plugins[{i}]", source)


def _import_plugin(plugin: str, location: str, source: str) -> ModuleType:
    try:
        # A failed import forgets what it registered, so a fixed plugin can be retried.
        with trial_blocks(keep=True):
            if plugin.endswith(".py"):
                return _import_path(Path(plugin), location, source)
            return importlib.import_module(plugin)
    except RecipeError:
        raise
    except BaseException as error:  # a plugin may raise anything, even SystemExit
        if isinstance(error, KeyboardInterrupt):
            raise
        kind = type(error).__name__
        hint = (
            "Is it installed, and spelled right?"
            if isinstance(error, ImportError)
            else "Fix the plugin's code."
        )
        raise RecipeError(
            source,
            Problem(location, f"importing plugin {plugin!r} failed: {kind}: {error}. {hint}"),
        ) from None


def _import_path(path: Path, location: str, source: str) -> ModuleType:
    try:
        resolved = path.expanduser().resolve()
    except (OSError, ValueError, RuntimeError):
        resolved = path
    if resolved in _BY_PATH:
        return _BY_PATH[resolved]
    if not resolved.is_file():
        raise RecipeError(
            source,
            Problem(
                location,
                f"plugin file {str(path)!r} not found. Paths in a recipe file are relative to "
                "that file.",
            ),
        )
    existing = _module_of_file(resolved)
    if existing is not None:  # already imported by the user under its own name
        _BY_PATH[resolved] = existing
        return existing
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    name = (
        f"resblocks_plugin_{resolved.stem if resolved.stem.isidentifier() else 'module'}_{digest}"
    )
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _BY_PATH[resolved] = module
    return module


def _module_of_file(path: Path) -> ModuleType | None:
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith(path.name):
            try:
                if Path(file).resolve() == path:
                    return module
            except (OSError, ValueError, RuntimeError):
                continue
    return None
