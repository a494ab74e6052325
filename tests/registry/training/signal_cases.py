"""The stop-on-signal cases, run by test_callbacks.py in a process of their own.

Not collected by the main run (the name is not test_*.py): in the full
suite's process, after some 750 tests had loaded TensorFlow, PyTorch, ONNX
Runtime and OpenVINO, delivering SIGINT segfaulted (seen twice on
2026-12-02, not reproduced in smaller subsets), so these run where a
training run does: in a fresh interpreter.
"""

import signal
import threading

import pytest

from registry.training.callbacks import StopOnSignal, TrainingInterrupted


def send(signal_number: int) -> None:
    """The signal, to the main thread, where Python runs its handlers.

    Not os.kill, which lets the kernel pick any thread; the callback's
    behaviour is the same either way.
    """
    signal.pthread_kill(threading.main_thread().ident, signal_number)


@pytest.fixture
def stop():
    callback = StopOnSignal()
    before = signal.getsignal(signal.SIGINT)
    callback.install()
    yield callback
    callback.restore()
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_stops_at_the_end_of_the_step(stop):
    stop.on_epoch_begin(3)
    send(signal.SIGINT)
    assert stop.received == "SIGINT"
    with pytest.raises(TrainingInterrupted) as error:
        stop.on_train_batch_end(0)
    assert (error.value.signal_name, error.value.epoch) == ("SIGINT", 4)


def test_sigterm_stops_during_validation_too(stop):
    send(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="SIGTERM"):
        stop.on_test_batch_end(0)


def test_a_second_signal_raises_at_once(stop):
    send(signal.SIGINT)
    with pytest.raises(TrainingInterrupted):
        send(signal.SIGINT)
