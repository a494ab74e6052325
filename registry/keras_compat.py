"""The private Keras APIs the project needs, in one place, each with its reason.

Keras 3 has no public way to list a layer's sublayers or to see where
`save_weights` puts each variable. Everything else of the project uses
public Keras only; if a Keras release moves these internals, this file is
the one to mend; `KERAS_CHECKED` names the versions it was checked against.
"""

import functools

import keras

# The Keras releases these internals were checked against (by
# tests/registry/test_keras_compat.py and the weights tests).
KERAS_CHECKED = ("3.15.1",)


def sublayers(layer: keras.layers.Layer, *, recursive: bool = False) -> list[keras.layers.Layer]:
    """The layers `layer` holds, in the order they were assigned; all levels with `recursive`.

    The layer itself is not included.
    """
    return list(layer._flatten_layers(include_self=False, recursive=recursive))


def leaf_layers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """`layer` and every layer inside it, at every level, depth first."""
    return list(layer._flatten_layers(include_self=True, recursive=True))


def weights_layout(model: keras.Model) -> "dict[str, dict[str, object]] | None":
    """Where Keras keeps each variable of `model` in a weights file.

    Returned as {group path: {index: variable}}.

    Keras' own saving walk, recording instead of writing, so the layout is
    exactly the one `save_weights` writes. A layer's group holds its
    variables; an optimizer's holds copies (arrays). None if Keras'
    internals moved: then the caller leaves the work to Keras' loader.
    """
    try:
        from keras.src.saving import saving_lib  # the walk Keras saves with; no public equivalent

        recorder = _recorder_class(saving_lib.H5IOStore)()
        saving_lib._save_state(
            model, weights_store=recorder, assets_store=None, inner_path="", visited_saveables=set()
        )
    except (ImportError, AttributeError, TypeError):
        return None
    return recorder.entries


@functools.cache
def _recorder_class(store_class: type) -> type:
    class Recorder(store_class):
        """A weights store that records which variable goes where, and writes nothing."""

        def __init__(self):  # no file: none of the real store's state is needed
            self.entries: dict[str, dict[str, object]] = {}
            self._current = ""

        def __bool__(self):
            return True

        def make(self, path, metadata=None):
            self._current = path
            return self

        def __setitem__(self, key, value):
            self.entries.setdefault(self._current, {})[key] = value

        def close(self):
            pass

    return Recorder


def replace_sublayer(
    layer: keras.layers.Layer, attribute: str, new: keras.layers.Layer
) -> keras.layers.Layer:
    """Puts the built layer `new` in place of `layer.<attribute>`; returns the layer it replaced.

    A built Keras layer locks its list of sublayers, and has no public way
    to swap one: folding batch norm into a convolution (registry.deploy)
    needs exactly that. The old layer and its variables leave the layer's
    tracking, so `layer.weights` and an export see only the new one.
    """
    old = getattr(layer, attribute)
    tracker = layer._tracker
    locked = tracker.locked
    tracker.unlock()
    try:
        tracker.untrack(old)
        setattr(layer, attribute, new)
    finally:
        if locked:
            tracker.lock()
    return old


def keras_names(module: str) -> tuple[list[str], list[str]]:
    """The names of `keras.<module>` ("activations" or "initializers") recipes may use.

    Returns (known, accepted): the public names suggested for a typo, and
    every string `keras.<module>.get` accepts, aliases ("zero", "one")
    included, read from Keras' private ALL_OBJECTS_DICT.
    """
    import importlib

    public = getattr(keras, module)
    known = [
        n
        for n in dir(public)
        if not n.startswith("_")
        and n not in ("get", "serialize", "deserialize")
        and (module != "initializers" or n.islower())
    ]
    private = importlib.import_module(f"keras.src.{module}")
    accepted = []
    for name in sorted({*known, *getattr(private, "ALL_OBJECTS_DICT", {})}):
        try:
            public.get(name)
        except (ValueError, TypeError, KeyError):  # KeyError: Constant needs a value
            continue
        accepted.append(name)
    return known, accepted
