"""What README and the docs claim about a new user's first hour stays true.

The install lines work from a clone, commands are shown with `.venv/bin/`
or an activation line, the claims that were found false stay corrected, and
README's sample output of `make run` is what the demo prints (compared line
by line with a recorded transcript, numbers and timings aside).
"""

import re
from pathlib import Path

import pytest

from registry.cli import parser
from registry.cli.backend import BACKENDS
from registry.deploy.formats import EXTRA

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))
COMMANDS = sorted(parser()._subparsers._group_actions[0].choices)
TRANSCRIPT = Path(__file__).with_name("demo_transcript.txt")  # `make run`, recorded


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _all_text() -> dict[Path, str]:
    sources = [README, *PAGES, *sorted((ROOT / "registry").rglob("*.py"))]
    return {path: _text(path) for path in sources}


@pytest.mark.parametrize(
    "false_claim",
    [
        "pip install 'resblocks[",  # not on the package index: pip install -e '.[...]'
        'pip install "resblocks[',
        "example.org/resblocks",  # a placeholder clone address
        "points at the exact line",  # validation errors have a key path; YAML syntax, a line
        "expand_nested=True)` opens",  # it prints the same rows: blocks are layers
        "runs in seconds",  # the image folder tutorial takes about a minute
    ],
)
def test_a_corrected_claim_does_not_come_back(false_claim):
    found = [str(p.relative_to(ROOT)) for p, text in _all_text().items() if false_claim in text]
    assert found == []


def test_readme_uses_the_folders_the_demo_writes():
    # The docs pages that train on digits/ write that folder first; README's reader has the demo's.
    assert "--data digits/" not in _text(README)
    assert "--data demo_data/digits/train" in _text(README)


def test_install_hints_of_the_command_line_work_from_a_clone():
    for _, install in BACKENDS.values():
        assert install.startswith("pip install -e '.[")
    assert EXTRA == ".[export]"


def test_every_page_that_shows_commands_says_how_to_reach_them():
    """`resblocks ...` lines need .venv/bin/ or an activation line on the page before them."""
    for page in [README, *PAGES]:
        text = _text(page)
        first = re.search(rf"^ *resblocks ({'|'.join(COMMANDS)}|--)", text, re.M)
        if first is None:
            continue
        before = text[: first.start()]
        assert "source .venv/bin/activate" in before or ".venv/bin/resblocks" in before, page


def test_readme_says_how_big_and_how_long_make_run_is():
    quick = _text(README).split("## Quick start", 1)[1].split("\n## ", 1)[0]
    size = re.search(r"fresh `\.venv`: ([0-9.]+) GB, installed in (\d+) s", quick)
    assert size is not None
    assert float(size.group(1)) <= 2.1


def test_readme_shows_plugins_for_your_own_block():
    section = _text(README).split("## Your own block", 1)[1].split("\n## ", 1)[0]
    assert "plugins:" in section and "--allow-plugins" in section


def shape(line: str) -> str:
    """A line with its numbers (timings, accuracies, counts, file numbers) as N."""
    return re.sub(r"\d+(\.\d+)?", "N", line.rstrip())


def sample_matches(sample: list[str], transcript: list[str]) -> bool:
    """Whether the sample is the transcript, line by line modulo numbers; `...` skips lines."""
    pattern = ""
    for line in sample:
        pattern += "(?:.*\n)*?" if line.strip() == "..." else re.escape(shape(line)) + "\n"
    return re.fullmatch(pattern, "".join(shape(line) + "\n" for line in transcript)) is not None


def readme_sample() -> list[str]:
    """The ``` block of `make run`'s output in README's quick start."""
    quick = _text(README).split("## Quick start", 1)[1]
    block = re.search(r"transcript\.txt`\):\n\n```\n(.*?)\n```", quick, re.S)
    assert block is not None
    return block.group(1).splitlines()


def test_readme_sample_output_is_the_recorded_demo_output():
    transcript = _text(TRANSCRIPT).splitlines()
    assert sample_matches(readme_sample(), transcript)


def test_the_comparison_can_fail():
    transcript = _text(TRANSCRIPT).splitlines()
    assert not sample_matches(readme_sample()[1:], transcript)
    assert not sample_matches([*readme_sample(), "one more line"], transcript)
