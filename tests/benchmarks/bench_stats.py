"""Timing, statistics and memory primitives shared by the benchmarks.

Speed is measured in alternating pairs (ours, reference, ours, ...) on one
machine in one process, so that load from other processes and thermal
drift hit both sides alike, and it is the per-pair ratio that is reported,
as a median with its min-max. Memory is the process' resident set (RSS):
TensorFlow allocates outside Python's heap, where tracemalloc cannot see.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence


@dataclasses.dataclass
class Samples:
    """Repeated measurements of one quantity, reported as median [min-max].

    Args:
        values: list of float. One value per repetition.
        unit: str. Printed after the numbers ("img/s", "s", "MiB", "x").
    """

    values: list[float] = dataclasses.field(default_factory=list)
    unit: str = ""

    def add(self, value: float) -> None:
        self.values.append(float(value))

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def low(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def high(self) -> float:
        return max(self.values) if self.values else float("nan")

    def format(self, digits: int = 2, unit: bool = False) -> str:
        """`median [min-max]`, or just the median for a single value."""
        if not self.values:
            return "-"
        text = f"{self.median:.{digits}f}"
        if len(self.values) > 1:
            text += f" [{self.low:.{digits}f}-{self.high:.{digits}f}]"
        return f"{text} {self.unit}" if unit and self.unit else text


def ratios(ours: Samples, reference: Samples) -> Samples:
    """Per-pair ratios ours / reference: pair i was measured back to back."""
    return Samples([a / b for a, b in zip(ours.values, reference.values)], "x")


def timed(fn: Callable[[], object]) -> float:
    """Seconds `fn()` takes on the wall clock."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock seconds and this process' CPU seconds (all threads) of `fn()`.

    CPU time counts the work done, not the time spent waiting for a core
    that another process holds, so ratios of it stay steady on a loaded
    machine where wall-clock ratios scatter.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def alternate(sides: Sequence[str], repeats: int) -> list[list[str]]:
    """The order of the sides in each repetition: ABBA, so that neither side
    is always the one that runs first (and pays a cold cache) or last."""
    return [list(sides) if i % 2 == 0 else list(reversed(sides)) for i in range(repeats)]


# --- memory -----------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float | None:
    """Current resident set size of this process in MiB (Linux), else None."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024


def peak_rss_mib() -> float | None:
    """High-water mark of the resident set (VmHWM) in MiB (Linux), else None."""
    kib = _status_kib("VmHWM")
    if kib is None:
        import resource

        # ru_maxrss is in KiB on Linux, bytes on macOS; only Linux is exact here.
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return kib / 1024


def reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


# --- the machine --------------------------------------------------------------


def machine_description() -> dict[str, str]:
    """What the numbers were measured on: CPU, cores, memory, versions, load."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name") and cpu in ("", platform.machine()):
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    vector = [
        f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags
    ]
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            memory = f"{int(info.readline().split()[1]) / 1024**2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    gpus = tf.config.list_physical_devices("GPU")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": f"{cpu} ({', '.join(vector) or 'no AVX2'})",
        "cores": str(os.cpu_count()),
        "memory": memory,
        "gpu": ", ".join(gpu.name for gpu in gpus) if gpus else "none",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 CPUs)"),
        "load average at start": ", ".join(f"{x:.2f}" for x in load) if load else "unknown",
    }
