"""Runs the code blocks of docs/**/*.md, so the docs cannot rot.

How each fenced block is treated (the info string after the backticks):

- ```python: the blocks of one page run in order in one namespace, so a
  page reads as one session, in a temporary working directory that holds
  copies of the page's sibling files (an exercise's starter and solution).
- ```python skip-until=registry.profile (any language): skipped, with the
  reason shown by `pytest -ra`, until `registry.profile` can be imported;
  then it runs like any other block. For features other issues deliver.
- needs=PATH[,PATH...]: skipped unless those files or folders exist (`~`
  allowed), for blocks that need what tests cannot download or make, such
  as ImageNet weights or a user's photos.
- slow: runs only in `make test-slow` (full-size training, for instance).
- ```yaml file=NAME.yaml: written into the working directory, so later
  blocks can `build("NAME.yaml")`; any ```yaml must parse, and one with
  `stages:` (or `base:`) must load as a valid recipe.
- ```bash and ```console: every line that starts with `resblocks ` runs
  in-process and must exit 0, or N when the line ends in `# exit N`; `~`
  and `*` expand as in a shell; other lines (pip, make, cp) are shown, not
  run.
- ```text and ```mermaid are not code.
"""

import contextlib
import glob
import importlib
import io
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^( *)```(\S*)(.*)$")  # a fence may be indented, inside a list
RUN_LANGUAGES = ("python", "yaml", "bash", "console")
SHOWN_ONLY = ("text", "mermaid", "sh", "")  # sh: commands shown, too long to run here (make bench)


@dataclass
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    language: str
    options: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    code: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(DOCS.parent)}:{self.line}"

    def missing(self) -> str | None:
        """What the block waits for (a feature or a file), or None when it can run."""
        for needs in filter(None, self.options.get("needs", "").split(",")):
            if not Path(needs).expanduser().exists():
                return needs
        target = self.options.get("skip-until")
        if target is None:
            return None
        module, _, attribute = target.rpartition(".")
        try:
            found = importlib.import_module(module)
        except ImportError:
            return target
        return None if hasattr(found, attribute) else target


def blocks_of(page: Path) -> list[Block]:
    blocks, current, indent = [], None, ""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if current is None and match:
            indent = match.group(1)
            words = match.group(3).split()
            options = dict(word.split("=", 1) for word in words if "=" in word)
            current = Block(
                page, number, match.group(2), options, {word for word in words if "=" not in word}
            )
        elif current is not None and line.strip() == "```":
            blocks.append(current)
            current = None
        elif current is not None:
            current.code += line.removeprefix(indent) + "\n"
    if current is not None:
        raise AssertionError(f"{page}:{current.line}: a code fence is never closed")
    return blocks


PAGES = sorted(DOCS.rglob("*.md"))
PENDING = [
    b
    for page in PAGES
    for b in blocks_of(page)
    if "skip-until" in b.options or "needs" in b.options
]
SLOW_PAGES = [page for page in PAGES if any("slow" in b.flags for b in blocks_of(page))]


def test_docs_have_pages_and_code():
    assert len(PAGES) >= 10
    languages = {block.language for page in PAGES for block in blocks_of(page)}
    assert "python" in languages
    unknown = languages - set(RUN_LANGUAGES) - set(SHOWN_ONLY)
    assert not unknown, f"code blocks in languages the docs runner does not know: {unknown}"


def run_page(page: Path, cwd: Path, monkeypatch, slow: bool) -> None:
    """Runs a page's blocks in order, as one session, in `cwd`."""
    for sibling in page.parent.iterdir():
        if sibling.is_file() and sibling.suffix != ".md":
            shutil.copy(sibling, cwd / sibling.name)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import keras

    keras.utils.set_random_seed(0)
    namespace = {"__name__": f"docs_{page.stem}"}
    for block in blocks_of(page):
        if block.language in SHOWN_ONLY or block.missing() or ("slow" in block.flags and not slow):
            continue
        run_block(block, namespace, cwd)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_runs(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch, slow=False)


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_runs_with_slow_blocks(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch, slow=True)


@pytest.mark.parametrize("block", PENDING, ids=lambda b: b.where)
def test_pending_blocks(block):
    """A pending block can run once what it waits for is there; the ones still waiting are listed.

    So a marker must be well formed: a block that runs (a language the
    runner knows), paths relative to the page's folder, under `~`, or a
    system folder (Debian's data sets), and a `skip-until` target that is
    MODULE.NAME in this project.
    """
    assert block.language in RUN_LANGUAGES, f"{block.where}: a {block.language} block never runs"
    for needs in block.options.get("needs", "").split(","):
        system = needs.startswith("/usr/share/")
        assert needs and (system or not Path(needs).is_absolute()), f"{block.where}: {needs=}"
    target = block.options.get("skip-until")
    if target is not None:
        assert re.fullmatch(r"(registry|resblocks)(\.\w+)+", target), f"{block.where}: {target!r}"
    target = block.missing()
    if target:
        pytest.skip(f"{block.where} waits for `{target}`")


def test_a_pending_block_runs_once_what_it_waits_for_is_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    block = Block(PAGES[0], 1, "python", {"needs": "data/train,photo.jpg"})
    assert block.missing() == "data/train"
    (tmp_path / "data" / "train").mkdir(parents=True)
    assert block.missing() == "photo.jpg"
    (tmp_path / "photo.jpg").write_bytes(b"")
    assert block.missing() is None
    assert Block(PAGES[0], 1, "python", {"skip-until": "registry.build"}).missing() is None
    for target in ("registry.no_such_feature", "registry.no_such_module.build"):
        assert Block(PAGES[0], 1, "python", {"skip-until": target}).missing() == target


def run_block(block: Block, namespace: dict, cwd: Path) -> None:
    try:
        if block.language == "python":
            exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102 - our own docs
        elif block.language == "yaml":
            run_yaml(block, cwd)
        else:
            run_shell(block)
    except Exception as error:
        raise AssertionError(
            f"the code block at {block.where} failed: {type(error).__name__}: {error}"
        ) from error


def run_yaml(block: Block, cwd: Path) -> None:
    import yaml

    from registry import load_recipe

    data = yaml.safe_load(block.code)
    name = block.options.get("file")
    if name:
        (cwd / name).write_text(block.code, encoding="utf-8")
    if isinstance(data, dict) and ("stages" in data or "base" in data) and "name" in data:
        if name:
            load_recipe(str(cwd / name))
        else:
            path = cwd / "_snippet.yaml"
            path.write_text(block.code, encoding="utf-8")
            load_recipe(str(path))


def run_shell(block: Block) -> None:
    from registry.cli import main

    for line in block.code.splitlines():
        line = line.strip().removeprefix("$ ")
        if not line.startswith("resblocks "):
            continue
        command, _, comment = line.partition("#")
        expected = re.match(r"\s*exit (\d+)", comment)
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            code = main([arg for word in shlex.split(command)[1:] for arg in _expand(word)])
        wanted = int(expected.group(1)) if expected else 0
        assert code == wanted, (
            f"`{command.strip()}` exited {code}, expected {wanted}:\n{output.getvalue()}"
        )


def _expand(word: str) -> list[str]:
    """`~` and `*` as a shell expands them; a pattern matching nothing stays as it is."""
    word = os.path.expanduser(word)
    return sorted(glob.glob(word)) or [word] if any(c in word for c in "*?[") else [word]


def test_runner_skips_until_a_feature_exists(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python skip-until=registry.no_such_feature slow\nraise SystemExit\n```\n"
        "```python skip-until=registry.build\nx = 1\n```\n"
        "```python needs=~/no/such/weights.h5\nx = 2\n```\n"
    )
    first, second, third = blocks_of(page)
    assert first.missing() == "registry.no_such_feature"
    assert first.flags == {"slow"}
    assert second.missing() is None
    assert third.missing() == "~/no/such/weights.h5"


def test_runner_reports_the_failing_block(tmp_path):
    page = DOCS / "_probe.md"
    block = Block(page, 7, "python", code="1 / 0\n")
    with pytest.raises(AssertionError, match=r"docs/_probe.md:7 failed: ZeroDivisionError"):
        run_block(block, {}, tmp_path)


def test_runner_checks_exit_codes(tmp_path):
    page = DOCS / "_probe.md"
    run_shell(Block(page, 1, "bash", code="pip install -e .\nresblocks list 'resnet1*'\n"))
    run_shell(Block(page, 1, "bash", code="resblocks validate nothing.yaml   # exit 2\n"))
    with pytest.raises(AssertionError, match="exited 2, expected 0"):
        run_shell(Block(page, 1, "bash", code="resblocks validate nothing.yaml\n"))
