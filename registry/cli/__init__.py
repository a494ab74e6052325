"""The `resblocks` command line (also `python -m registry`): one module per topic of commands."""

from registry.cli.app import main, parser

__all__ = ["main", "parser"]
