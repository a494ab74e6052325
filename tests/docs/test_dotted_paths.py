"""Every `registry.…` / `resblocks.…` path and every source file named in the
docs, the README and the docstrings exists, so a reader who follows one
finds it (modules move; their mentions must move with them)."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    + [*(ROOT / "registry").rglob("*.py"), *(ROOT / "resblocks").rglob("*.py")]
)
# `registry.training.speed`, `resblocks.BottleNeck`, `registry.build`: a dotted
# name that starts with one of the packages (not inside a longer word or path).
DOTTED = re.compile(r"(?<![\w./-])((?:registry|resblocks)(?:\.[A-Za-z_]\w*)+)")
# `registry/training/speed.py`, `tests/docs/test_docs.py`, `recipes/resnet50.yaml`.
SOURCE_FILE = re.compile(r"(?<![\w./-])((?:registry|resblocks|recipes|tests)/[\w/-]+\.(?:py|yaml))")
FILE_SUFFIXES = (".json", ".md", ".py", ".yaml", ".png", ".svg")
USER_FILES = ("recipes/my_", "recipes/your_")  # examples of a user's own files


def resolves(dotted: str) -> bool:
    """Whether the longest importable prefix of `dotted` has the rest as attributes."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for attribute in parts[end:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def mentions(pattern: re.Pattern) -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(ROOT)), match.group(1))
        for path in TEXTS
        for match in pattern.finditer(path.read_text())
    ]


def test_the_scan_finds_mentions():
    """A pattern that matched nothing would pass the tests below vacuously."""
    assert len(mentions(DOTTED)) > 200
    assert len(mentions(SOURCE_FILE)) > 50


def test_dotted_paths_resolve():
    dotted = [(where, name) for where, name in mentions(DOTTED) if not name.endswith(FILE_SUFFIXES)]
    broken = sorted({(where, name) for where, name in dotted if not resolves(name)})
    assert not broken, "names that do not resolve (file, name):\n" + "\n".join(map(str, broken))


def test_source_files_exist():
    broken = sorted(
        {
            (where, name)
            for where, name in mentions(SOURCE_FILE)
            if not name.startswith(USER_FILES) and not (ROOT / name).exists()
        }
    )
    assert not broken, "files that do not exist (file, path):\n" + "\n".join(map(str, broken))


@pytest.mark.parametrize("name", ["registry.no_such_module", "resblocks.NoSuchBlock"])
def test_a_wrong_name_is_caught(name):
    assert not resolves(name)
