"""One attribute per constructor argument, and a config of exactly those.

keras-hub's rule ("keep a python attribute on the layer for each `__init__`
argument", and `get_config()` returns exactly those), written once: a
layer calls `keep_arguments(self, locals())` after `super().__init__`, and
`argument_config(self)` in `get_config`. The signature stays the one
source of the argument names, so a recipe, the config and the attributes
cannot disagree.
"""

import inspect


def argument_names(cls: type) -> list[str]:
    """The named arguments of `cls.__init__`, in order (without self, *args, **kwargs)."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in parameters if p.name != "self" and p.kind not in variadic]


def given(local_variables: dict) -> dict:
    """The arguments an `__init__` was called with, from its `locals()`, `**kwargs` spread.

    So a subclass passes them all to its parent by keyword:
    `super().__init__(**given(locals()))`.
    """
    values = {k: v for k, v in local_variables.items() if k not in ("self", "__class__")}
    kwargs = values.pop("kwargs", {})
    return {**values, **kwargs}


def keep_arguments(layer, values: dict) -> None:
    """Sets `layer.<name> = values[name]` for each argument of the layer's constructor."""
    for name in argument_names(type(layer)):
        setattr(layer, name, values[name])


def argument_config(layer) -> dict:
    """`{name: layer.<name>}` for each argument of the layer's constructor."""
    return {name: getattr(layer, name) for name in argument_names(type(layer))}
