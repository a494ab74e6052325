"""The stop-on-signal callback: a first signal stops at the next step, a second at once."""

import subprocess
import sys
from pathlib import Path

from registry.training.callbacks import TrainingInterrupted

CASES = Path(__file__).with_name("signal_cases.py")


def test_signals_stop_training_in_a_fresh_process():
    """signal_cases.py's three cases: SIGINT at the end of the step, SIGTERM in validation,
    a second signal at once (see its docstring for why they run apart)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_training_interrupted_is_a_keyboard_interrupt():
    # So `except Exception` in user code does not swallow a Ctrl-C.
    assert issubclass(TrainingInterrupted, KeyboardInterrupt)
