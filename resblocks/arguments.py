"""One attribute per constructor argument, and a config of exactly those.

keras-hub's rule ("keep a python attribute on the layer for each `__init__`
argument", and `get_config()` returns exactly those), written once: a
layer calls `keep_arguments(self, locals())` after `super().__init__`, and
`argument_config(self)` in `get_config`. The signatures stay the one
source of the argument names, so a recipe, the config and the attributes
cannot disagree.

A layer's arguments are those of its `__init__` and, where that `__init__`
passes `**kwargs` on to a base class, the base's keyword-only arguments:
settings such as `ConvBNLayer`'s convolution-and-norm ones, declared once
for every block that takes them. The walk stops at Keras' own classes,
whose arguments (`name`, `dtype`, `trainable`) every layer has.
"""

import inspect


def argument_parameters(cls: type) -> list[inspect.Parameter]:
    """The parameters of `cls`'s arguments, in order (without self, *args, **kwargs).

    Those of `cls.__init__`, then the keyword-only ones of each base class
    it passes `**kwargs` to, up to Keras. Annotations are evaluated.
    """
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    found: dict[str, inspect.Parameter] = {}
    owners = [c for c in cls.__mro__ if "__init__" in vars(c)]
    for depth, owner in enumerate(owners):
        if owner.__module__.split(".")[0] == "keras":
            break
        parameters = inspect.signature(owner.__init__, eval_str=True).parameters.values()
        for p in parameters:
            inherited = depth > 0 and p.kind is not inspect.Parameter.KEYWORD_ONLY
            if p.name != "self" and p.kind not in variadic and not inherited:
                found.setdefault(p.name, p)
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    return list(found.values())


def argument_names(cls: type) -> list[str]:
    """The names of `cls`'s arguments, in order: see `argument_parameters`."""
    return [p.name for p in argument_parameters(cls)]


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
