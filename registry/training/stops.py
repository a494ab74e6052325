"""The two ways a training run stops early, as exceptions: a signal, or a loss gone NaN.

Plain Python, so the command line can name them in its table of exit codes
without loading TensorFlow.
"""

import signal


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training; the last completed epoch is saved.

    Attributes:
        signal_name: str. "SIGINT" or "SIGTERM".
        epoch: int. The 1-based epoch that was abandoned (0: before the first).
    """

    def __init__(self, signal_name: str, epoch: int, message: str = ""):
        self.signal_name = signal_name
        self.epoch = epoch
        super().__init__(message or f"{signal_name} during epoch {epoch}")

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process stopped by it."""
        return 128 + signal.Signals[self.signal_name].value


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite; the last good epoch is kept."""
