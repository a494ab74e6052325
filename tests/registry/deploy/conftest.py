"""One trained digits run and one export per format, shared by every deploy test.

Training and exporting are the slow parts, so each is done once per session:
the digits demo network for 2 epochs (enough for confident answers), then
each format exported lazily, the first time a test asks for it.
"""

from pathlib import Path

import pytest

from registry.cli import main


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory) -> tuple[Path, Path]:
    """(the run's model.keras, its validation folder)."""
    from registry import train
    from registry.training.digits import write_digits_folder

    root = tmp_path_factory.mktemp("digits")
    train_dir, val_dir = write_digits_folder(root / "digits")
    train("digits_demo", data=train_dir, val=val_dir, out=root / "run", epochs=2, verbose=0)
    return root / "run" / "model.keras", val_dir


@pytest.fixture(scope="session")
def exported(digits_run, tmp_path_factory):
    """`exported(format)`: the path of the digits model exported by the CLI in that format."""
    model, val_dir = digits_run
    out = tmp_path_factory.mktemp("exported")
    paths: dict[str, Path] = {}

    def export(fmt: str) -> Path:
        if fmt not in paths:
            target = out / f"digits_{fmt}"
            # ONNX is checked on the run's own validation images (its data.json).
            images = [] if fmt == "onnx" else ["--images", str(val_dir)]
            code = main(["export", str(model), "--format", fmt, "--out", str(target), *images])
            assert code == 0
            paths[fmt] = next(
                p
                for p in out.iterdir()
                if p.name.startswith(target.name) and not p.name.endswith((".bin", ".json"))
            )
        return paths[fmt]

    return export
