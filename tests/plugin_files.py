"""Plugin modules for tests: their source, and forgetting what they registered."""

import textwrap

from registry.recipe.plugins import trial_plugins


def block_source(block: str) -> str:
    """A plugin module registering a one-convolution block `PluginConv` under `block`."""
    return textwrap.dedent(f'''
        import keras
        from registry import register_block

        IMPORTS = globals().get("IMPORTS", 0) + 1

        @register_block("{block}")
        class PluginConv(keras.layers.Layer):
            def __init__(self, filters: int, **kwargs):
                super().__init__(**kwargs)
                self.filters = filters
                self.conv = keras.layers.Conv2D(filters, 3, padding="same", name="conv")

            def build(self, input_shape):
                self.conv.build(input_shape)

            def call(self, x):
                return self.conv(x)

            def compute_output_shape(self, input_shape):
                return self.conv.compute_output_shape(input_shape)

            def get_config(self):
                return {{**super().get_config(), "filters": self.filters}}
    ''')


def forgetting_plugins():
    """Unregisters what plugins imported inside the block registered.

    Other tests then see the built-in registry.
    """
    return trial_plugins()
