"""The errors of exporting and running exported models, each naming the thing and the fix.

All are `ResblocksError`s, so the command line prints them and exits 2.
"""

from registry.errors import ResblocksError


class ExportError(ResblocksError):
    """An export that cannot be done as asked (format, model, output path); nothing was written."""


class MissingRuntimeError(ExportError):
    """A package the format needs is not installed; the message names the pip command."""


class VerificationError(ExportError):
    """The exported model disagrees with Keras; the message names the largest difference."""
