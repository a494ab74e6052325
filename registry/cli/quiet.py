"""TensorFlow's start-up lines kept off the command line unless `resblocks --verbose`.

Importing TensorFlow 2.21 prints absl's "All log messages before
absl::InitializeLog()" and oneDNN's "custom operations are on" from C++,
before TF_CPP_MIN_LOG_LEVEL is read, so no setting silences them. The
commands that need Keras import it here first with the process's standard
error (file descriptor 2) sent to a temporary file, which is shown only if
the import fails.
"""

import os
import sys
import tempfile


def import_keras(verbose: bool) -> None:
    """Imports Keras (and its backend) now; its start-up lines are dropped unless `verbose`."""
    if "keras" in sys.modules:
        return
    if verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        import keras

        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    try:
        from absl import logging as absl_logging  # TensorFlow's Python-side logger
    except ImportError:
        return
    absl_logging.set_verbosity(absl_logging.ERROR)
