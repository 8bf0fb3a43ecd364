"""Do the newcomer's documents name only paths that exist, and does the README's layout section cover the tree?

A renamed module leaves the README's layout, docs/architecture.md or CONTRIBUTING.md pointing at nothing; a new
package nobody described leaves the layout short. Both fail here with the document, line and path to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
CHANGELOG = ROOT / "CHANGELOG.md"

LAYOUT_HEADING = "## Layout"
SPAN = re.compile(r"`([^`\n]+)`")
# A span that is a URL, a route, an option, a placeholder or a glob names no file of ours.
NOT_A_PATH = re.compile(r"\s|://|^/|^-|^\.\./|[<>*{}$…=]")
FILE_SUFFIXES = (".py", ".md", ".yml", ".yaml", ".json", ".sh", ".toml", ".ini", ".mako", ".html", ".css", ".js")
DOTTED_MODULE = re.compile(r"^(?:app|tests|bench)(?:\.[a-z_][a-z0-9_]*)+$")
# Inside fenced blocks (the diagrams) paths aren't backticked: any word starting with one of our directories.
FENCED_PATH = re.compile(r"(?<![\w/.-])((?:app|tests|bench|forge|scripts|migrations|docs|templates|static)"
                         r"/[\w./-]*[\w/])")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
# Made by running or building things, never part of the tree a newcomer reads about.
GENERATED = frozenset({"instance", "artifacts", "build", "dist", "node_modules", "__pycache__", "htmlcov"})


def numbered(lines: list[str], first: int = 1) -> Iterator[tuple[int, str, bool]]:
    """Each line with its number and whether it lies inside a fenced block (the fences themselves count as inside)."""
    fenced = False
    for number, line in enumerate(lines, start=first):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            yield number, line, True
            continue
        yield number, line, fenced


def is_path(span: str) -> bool:
    return not NOT_A_PATH.search(span) and ("/" in span or span.endswith(FILE_SUFFIXES))


def named_paths(lines: list[str], first: int = 1, *, fenced_too: bool = False) -> list[tuple[int, str]]:
    """(line number, path) for every path a piece of Markdown names: backticked, and in fenced blocks if asked."""
    found: list[tuple[int, str]] = []
    for number, line, fenced in numbered(lines, first):
        if fenced:
            if fenced_too:
                found.extend((number, path) for path in FENCED_PATH.findall(line))
            continue
        found.extend((number, span) for span in SPAN.findall(line) if is_path(span))
    return found


def named_modules(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, dotted module) for every backticked ``app.x.y``-style module name."""
    return [(number, span) for number, line, fenced in numbered(lines) if not fenced
            for span in SPAN.findall(line) if DOTTED_MODULE.match(span)]


def module_exists(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def layout_section() -> tuple[list[str], int]:
    """The README's layout section (its heading to the next ``## `` heading) and the number of its first line."""
    lines = README.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == LAYOUT_HEADING]
    assert starts, f"README.md has no {LAYOUT_HEADING!r} section"
    start = starts[0] + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end], start + 1


def generated(path: str) -> bool:
    """A path the runs write (screenshots, builds): it exists only after them, and git must ignore it."""
    return Path(path).parts[0] in GENERATED


def missing(document: Path, paths: list[tuple[int, str]]) -> list[str]:
    """Named paths a clean clone doesn't hold; a generated path counts as present when .gitignore covers it."""
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()}
    return [f"{document.relative_to(ROOT)}:{number}: {path}" for number, path in paths
            if not (Path(path).parts[0] in ignored if generated(path) else (ROOT / path).exists())]


def packages_under(directory: Path) -> list[Path]:
    """Every package (a directory holding ``__init__.py``) below ``directory``, itself excluded."""
    return sorted(init.parent for init in directory.rglob("__init__.py")
                  if init.parent != directory and not GENERATED & set(init.relative_to(ROOT).parts))


def test_every_path_the_readme_layout_names_exists() -> None:
    lines, first = layout_section()
    paths = named_paths(lines, first)
    assert len(paths) > 20, "the layout section should name the tree's directories and key files in backticks"
    assert missing(README, paths) == []


def test_the_readme_layout_names_every_directory_of_the_tree() -> None:
    """Every top-level directory, every package of app/, and every tests/ package that doesn't mirror one of app/."""
    lines, first = layout_section()
    named = {path.rstrip("/") for _number, path in named_paths(lines, first)}
    top = [p for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in GENERATED
           and not p.name.endswith(".egg-info")]
    app_packages = packages_under(ROOT / "app")
    app_names = {p.name for p in app_packages} | {"app"}
    test_packages = [p for p in (ROOT / "tests").iterdir() if (p / "__init__.py").is_file() and p.name not in app_names]
    expected = {p.relative_to(ROOT).as_posix() for p in [*top, *app_packages, *test_packages]}
    assert sorted(expected - named) == [], "README.md's layout section doesn't name these directories"


def test_every_path_the_architecture_notes_name_exists() -> None:
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    paths = named_paths(lines, fenced_too=True)
    assert len(paths) > 50, "the architecture notes should name the modules they describe"
    assert missing(ARCHITECTURE, paths) == []
    modules = named_modules(lines)
    assert [f"docs/architecture.md:{n}: {m}" for n, m in modules if not module_exists(m)] == []


def test_every_path_contributing_names_exists() -> None:
    paths = named_paths(CONTRIBUTING.read_text(encoding="utf-8").splitlines())
    assert missing(CONTRIBUTING, paths) == []


@pytest.mark.parametrize("document", [README, ARCHITECTURE, CONTRIBUTING, CHANGELOG], ids=lambda p: p.name)
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for number, line, fenced in numbered(document.read_text(encoding="utf-8").splitlines()):
        for target in ([] if fenced else MARKDOWN_LINK.findall(line)):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (document.parent / target).exists():
                broken.append(f"{document.relative_to(ROOT)}:{number}: {target}")
    assert broken == []


def test_the_readme_links_the_newcomers_documents() -> None:
    links = set(MARKDOWN_LINK.findall(README.read_text(encoding="utf-8")))
    assert {"docs/architecture.md", "CONTRIBUTING.md", "CHANGELOG.md"} <= links
