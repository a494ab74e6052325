"""Runs `resblocks train ...` in its own process for the interruption and strategy tests.

    python train_process.py [--logical-cpus N]
        [--pause-at EPOCH:STEP --marker FILE [--release FILE]] -- train ARGS...

--logical-cpus splits the CPU into N logical devices before TensorFlow
starts (MirroredStrategy then has N replicas). --pause-at stops inside the
given 1-based epoch, before the given 1-based step: it writes FILE, then
waits until --release exists (or until killed), so the test can signal the
process at a known point in the middle of an epoch.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logical-cpus", type=int, default=0)
    parser.add_argument("--pause-at", default=None)
    parser.add_argument("--marker", type=Path)
    parser.add_argument("--release", type=Path)
    options, rest = parser.parse_known_args()
    argv = rest[1:] if rest[:1] == ["--"] else rest

    if options.logical_cpus:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * options.logical_cpus
        )

    if options.pause_at:
        import keras

        import registry.training.run as run

        epoch_at, step_at = (int(part) for part in options.pause_at.split(":"))

        class PauseMidEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch + 1

            def on_train_batch_begin(self, batch, logs=None):
                if (self.epoch, batch + 1) != (epoch_at, step_at):
                    return
                options.marker.write_text(str(os.getpid()))
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline and not (
                    options.release and options.release.exists()
                ):
                    time.sleep(0.05)

        train = run.train
        run.train = lambda *args, **kwargs: train(*args, callbacks=[PauseMidEpoch()], **kwargs)

    from registry.cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
