"""keras.distribution's data parallelism: over one machine's devices, or over several machines.

`DataParallel` replicates the model on the local devices and splits every
batch across them. `MultiHost` does the same over the devices of several
processes, on one machine or many, connected by jax.distributed.

Every process runs the same `train()`; together they are one data-parallel
job. Process 0 hosts the coordinator (`--coordinator HOST:PORT`, a
port on process 0's machine that the others can reach), and the processes
exchange gradients with gloo on CPUs (NCCL on GPUs, JAX's own choice).

    # on the first machine (10.0.0.1)       # on the second
    resblocks --backend jax train R \\       resblocks --backend jax train R \\
      --strategy multi_host \\                 --strategy multi_host \\
      --coordinator 10.0.0.1:7777 \\           --coordinator 10.0.0.1:7777 \\
      --num-processes 2 --process-id 0        --num-processes 2 --process-id 1

The settings can also come from Keras' own environment variables,
KERAS_DISTRIBUTION_JOB_ADDRESSES, KERAS_DISTRIBUTION_NUM_PROCESSES and
KERAS_DISTRIBUTION_PROCESS_ID (the flags win). The model is replicated on
every device of every process, and each process feeds its own slice of
every global batch (see `registry.training.data.image_dataset`'s `shard`).
Process 0 alone writes the run folder and sends the others what they need
to resume (`from_process_0`). A process that dies makes the others fail in
their next gradient exchange: `ProcessLost` says which, and what is saved.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import socket
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from registry.errors import ResblocksError
from registry.training.data import ImageSource

# Keras' names for the three settings (keras.distribution.initialize reads them too).
ENVIRONMENT = {
    "coordinator": "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "num_processes": "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "process_id": "KERAS_DISTRIBUTION_PROCESS_ID",
}
FLAGS = {
    "coordinator": "--coordinator",
    "num_processes": "--num-processes",
    "process_id": "--process-id",
}
# How long a process waits for all the others to join at the start.
STARTUP_TIMEOUT_S = 300
# A process whose heartbeats stop this long (a machine gone silent) stops the
# job; a process that exits is noticed at once, at the next gradient exchange.
HEARTBEAT_TIMEOUT_S = 30


class StrategyError(ResblocksError):
    """A strategy that cannot run as asked; the message names the setting and the fix."""


class ProcessLost(ResblocksError):
    """Another process of the job stopped; this one cannot go on without it."""


@dataclasses.dataclass(frozen=True)
class ProcessGroup:
    """Where this process stands in the job.

    Args:
        coordinator: str. HOST:PORT of process 0's coordinator.
        num_processes: int. Processes in the job, at least 1.
        process_id: int. This process, 0 to num_processes - 1; 0 writes the run folder.
    """

    coordinator: str
    num_processes: int
    process_id: int

    @classmethod
    def from_settings(
        cls,
        coordinator: str | None = None,
        num_processes: int | str | None = None,
        process_id: int | str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> ProcessGroup:
        """The group from flags, each missing one from its environment variable.

        Raises:
            StrategyError: a setting missing, malformed or out of range; the
                message names the flag or variable it came from.
        """
        given = {
            "coordinator": coordinator,
            "num_processes": num_processes,
            "process_id": process_id,
        }
        source = {}
        for key, value in given.items():
            source[key] = FLAGS[key]
            if value is None and environ.get(ENVIRONMENT[key]):
                given[key], source[key] = environ[ENVIRONMENT[key]], ENVIRONMENT[key]
        missing = [FLAGS[key] for key, value in given.items() if value is None]
        if missing:
            raise StrategyError(
                f"--strategy multi_host needs {', '.join(missing)}: every process is started "
                "with --coordinator HOST:PORT (process 0's machine and a free port on it), "
                "--num-processes N and its own --process-id 0..N-1 (or the environment "
                f"variables {', '.join(ENVIRONMENT.values())}). To try it on one machine: "
                "resblocks launch --processes 2 -- train ..."
            )
        address = str(given["coordinator"]).split(",")[0].strip()  # Keras' list: the first
        parse_address(address, source["coordinator"])
        num = _whole(given["num_processes"], source["num_processes"], low=1)
        pid = _whole(given["process_id"], source["process_id"], low=0)
        if pid >= num:
            raise StrategyError(
                f"{source['process_id']} is {pid}, but the job has {num} processes "
                f"({source['num_processes']} {num}): process ids are 0 to {num - 1}."
            )
        return cls(address, num, pid)


def parse_address(address: str, setting: str = "--coordinator") -> tuple[str, int]:
    """(host, port) of HOST:PORT (IPv6 hosts in brackets: [::1]:7777).

    Raises:
        StrategyError: naming `setting`.
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StrategyError(
            f"{setting} is {address!r}, which is not HOST:PORT. Give process 0's machine "
            "and a free port on it, such as 10.0.0.1:7777 (or 127.0.0.1:7777 on one machine)."
        )
    return host, int(port)


class DataParallel:
    """`keras.distribution.DataParallel` over the local devices, for `train()`.

    The model is replicated on every device and each global batch is split
    across them, so every batch must hold a multiple of
    `num_replicas_in_sync` images (`train()` trims the last one).
    """

    def __init__(self, devices: list | None = None) -> None:
        devices = devices or keras.distribution.list_devices()
        self.distribution = keras.distribution.DataParallel(devices=devices)
        self.num_replicas_in_sync = len(devices)
        self.num_processes = 1
        self.process_id = 0

    def scope(self):
        return self.distribution.scope()


class MultiHost(DataParallel):
    """`keras.distribution.DataParallel` over the devices of every process of a job.

    Connects the process to the job (jax.distributed; gloo between CPUs)
    when made, so it must be made before JAX runs anything.

    Args:
        group: ProcessGroup. This process's place in the job.
    """

    def __init__(self, group: ProcessGroup) -> None:
        import jax

        connect(group)
        super().__init__(devices=jax.devices())
        # Each process feeds its own slice of every batch (image_dataset's `shard`).
        self.distribution.auto_shard_dataset = False
        self.group = group
        self.num_processes = group.num_processes
        self.process_id = group.process_id
        self.local_devices = jax.local_device_count()

    def describe(self, batch_size: int) -> str:
        """Which process this is, and how a global batch is shared out."""
        return (
            f"Process {self.process_id} of {self.num_processes} (coordinator "
            f"{self.group.coordinator}): global batch {batch_size}, "
            f"{batch_size // self.num_processes} per process on {self.local_devices} "
            f"local device{'s' if self.local_devices > 1 else ''}, "
            f"{self.num_replicas_in_sync} devices in all; process 0 writes the run folder."
        )

    def lost(self, error: Exception) -> str | None:
        """What was lost, if `error` is a failed exchange with another process; else None."""
        import jax

        text = str(error)
        if not isinstance(error, jax.errors.JaxRuntimeError) or not any(
            sign in text for sign in ("Gloo", "gloo", "UNAVAILABLE", "heartbeat", "NCCL")
        ):
            return None
        others = [i for i in range(self.num_processes) if i != self.process_id]
        who = f"process {others[0]}" if len(others) == 1 else "another process"
        cause = text.strip().splitlines()[0][:300]
        return f"Process {self.process_id} lost {who} of the {self.num_processes} ({cause})"


def check_same_images(strategy: MultiHost, sources: Sequence[ImageSource]) -> None:
    """Raises StrategyError on a process that sees other images than process 0.

    Each process reads its slice of every batch from its own copy of the
    data, so the copies must hold the same images (for folders: the same
    paths below each root, and classes) for the slices to fit together.
    """
    listing = hashlib.sha256()
    for source in sources:
        listing.update(f"{source.fingerprint()}\n".encode())
    mine = listing.digest()
    theirs = from_process_0(mine if strategy.process_id == 0 else None)
    if theirs != mine:
        counts = " and ".join(f"{len(source)} in {source.where}" for source in sources)
        raise StrategyError(
            f"Process {strategy.process_id} sees other images than process 0 ({counts} here). "
            "Every process reads its slice of each batch from its own copy of --data and "
            "--val: give every machine the same files (same names, same class folders)."
        )


def connect(group: ProcessGroup) -> None:
    """Joins this process to the job, once per process.

    Raises:
        StrategyError: process 0's port is in use, or the job did not assemble in time.
    """
    import jax

    if jax.distributed.is_initialized():
        return
    if group.process_id == 0:
        check_port_free(group.coordinator)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator_address=group.coordinator,
            num_processes=group.num_processes,
            process_id=group.process_id,
            initialization_timeout=STARTUP_TIMEOUT_S,
            heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_S,
        )
    except RuntimeError as error:  # JaxRuntimeError, a timeout or a refused connection
        raise StrategyError(
            f"Process {group.process_id} of {group.num_processes} could not join the job at "
            f"--coordinator {group.coordinator} ({str(error).strip().splitlines()[0][:300]}). "
            f"Start all {group.num_processes} processes within {STARTUP_TIMEOUT_S} s with the "
            "same --coordinator and --num-processes and different --process-id, and check "
            "that the others can reach that address."
        ) from None


def check_port_free(coordinator: str) -> None:
    """Raises StrategyError if the coordinator's port is taken on this machine."""
    _, port = parse_address(coordinator)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                return  # not ours to judge (an address of another machine): jax will say
            raise StrategyError(
                f"--coordinator {coordinator}: port {port} is already in use on this "
                "machine (another job, or one still stopping). Choose another port for every "
                "process, or stop the program that holds it."
            ) from None


def from_process_0(payload: bytes | None) -> bytes:
    """Process 0's `payload`, on every process (the others pass None).

    How process 0 hands the others the resume point it read from the run
    folder, which only it may read: no shared file system is needed.
    """
    from jax.experimental import multihost_utils

    size = np.array(len(payload) if payload is not None else 0, np.int64)
    size = int(multihost_utils.broadcast_one_to_all(size))
    if size == 0:
        return b""
    data = np.frombuffer(payload, np.uint8) if payload is not None else np.zeros(size, np.uint8)
    return np.asarray(multihost_utils.broadcast_one_to_all(data)).tobytes()


def _whole(value: int | str, setting: str, low: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if number < low:
        raise StrategyError(f"{setting} is {value!r}; it must be a whole number of at least {low}.")
    return number
