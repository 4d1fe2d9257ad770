"""Which files `check DIR` analyses: suffixes, default excludes, .gitignore, exclude settings."""

from __future__ import annotations

import os
from pathlib import Path

from asyncsense.analyzers.config import Config
from asyncsense.analyzers.discovery import discover


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def found(root: Path, config: Config | None = None, paths: list[str] | None = None, **kwargs) -> list[str]:
    config = config or Config(root=root)
    result = discover([root / p for p in paths] if paths else [root], config, root=root, **kwargs)
    return [f.relative_to(root).as_posix() for f in result.files]


def test_suffixes_and_default_excludes(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "a.py",
        "b.pyi",
        "c.txt",
        "nb.ipynb",
        "pkg/__init__.py",
        "pkg/mod.py",
        ".git/hook.py",
        ".venv/lib/x.py",
        "venv/lib/x.py",
        "node_modules/x.py",
        "pkg/__pycache__/mod.py",
        "build/lib/x.py",
        "dist/x.py",
        ".tox/py/x.py",
        "src/build/x.py",
    )
    assert found(tmp_path) == ["a.py", "nb.ipynb", "pkg/__init__.py", "pkg/mod.py"]


def test_gitignore_root_and_nested(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "keep.py", "gen_x.py", "gen_keep.py", "out/x.py", "sub/a.py", "sub/local.py", "sub/deep/b.py")
    (tmp_path / ".gitignore").write_text("# comment\ngen_*.py\n!gen_keep.py\nout/\n")
    (tmp_path / "sub" / ".gitignore").write_text("local.py\ndeep/\n")
    assert found(tmp_path) == ["gen_keep.py", "keep.py", "sub/a.py"]


def test_gitignore_of_ancestors_applies_to_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("skipped.py\n")
    (tmp_path / ".git" / "info" / "exclude").write_text("private.py\n")
    touch(tmp_path, "src/ok.py", "src/skipped.py", "src/private.py")
    result = discover([tmp_path / "src"], Config(root=tmp_path), root=tmp_path)
    assert [f.name for f in result.files] == ["ok.py"]


def test_gitignore_lines_pathspec_refuses_are_skipped(tmp_path: Path) -> None:
    """`!`, a lone backslash, a reversed range: git ignores such lines; they must not end the walk."""
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "a.py", "b.py", "c.py")
    (tmp_path / ".gitignore").write_text("!\n\\\n[z-a]\nb.py\n")
    assert found(tmp_path) == ["a.py", "c.py"]


def test_invalid_patterns_in_a_config_built_in_code_do_not_crash(tmp_path: Path) -> None:
    touch(tmp_path, "a.py", "b.py")
    config = Config(root=tmp_path, exclude=("[z-a]", "b.py"), extend_exclude=("!",))
    assert found(tmp_path, config) == ["a.py"]


def test_no_respect_gitignore(tmp_path: Path) -> None:
    touch(tmp_path, "a.py", "b.py")
    (tmp_path / ".gitignore").write_text("b.py\n")
    assert found(tmp_path, respect_gitignore=False) == ["a.py", "b.py"]


def test_exclude_replaces_defaults_and_extend_exclude_adds(tmp_path: Path) -> None:
    touch(tmp_path, "a.py", "generated/x.py", "build/x.py", "legacy/old.py", "legacy/new.py", "deep/legacy/old.py")
    assert found(tmp_path, Config(root=tmp_path, extend_exclude=("generated/", "/legacy/old.py"))) == [
        "a.py",
        "deep/legacy/old.py",
        "legacy/new.py",
    ]
    assert found(tmp_path, Config(root=tmp_path, exclude=("generated",))) == [
        "a.py",
        "build/x.py",
        "deep/legacy/old.py",
        "legacy/new.py",
        "legacy/old.py",
    ]


def test_explicit_files_are_always_checked(tmp_path: Path) -> None:
    touch(tmp_path, "build/x.py", "ignored.py", "script")
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    assert found(tmp_path, paths=["build/x.py", "ignored.py", "script"]) == ["build/x.py", "ignored.py", "script"]


def test_explicit_directory_is_walked_even_if_excluded(tmp_path: Path) -> None:
    touch(tmp_path, "build/x.py", "build/dist/y.py")
    assert found(tmp_path, paths=["build"]) == ["build/x.py"]


def test_missing_path_is_an_error_for_that_path_only(tmp_path: Path) -> None:
    touch(tmp_path, "a.py")
    result = discover([tmp_path / "a.py", "missing.py"], Config(root=tmp_path), root=tmp_path)
    assert [f.name for f in result.files] == ["a.py"]
    assert result.errors == [("missing.py", "No such file or directory")]


def test_duplicates_and_order(tmp_path: Path) -> None:
    touch(tmp_path, "b.py", "a.py")
    result = discover([tmp_path / "b.py", tmp_path, tmp_path / "a.py"], Config(root=tmp_path), root=tmp_path)
    assert [f.name for f in result.files] == ["a.py", "b.py"]


def test_symlinks(tmp_path: Path) -> None:
    touch(tmp_path, "real/a.py")
    os.symlink(tmp_path / "real", tmp_path / "loop")  # directory links are not followed
    os.symlink(tmp_path / "nowhere.py", tmp_path / "broken.py")  # kept: reported as unreadable later
    assert found(tmp_path) == ["broken.py", "real/a.py"]


def test_outside_root_patterns_match_relative_to_walked_dir(tmp_path: Path) -> None:
    project, other = tmp_path / "project", tmp_path / "other"
    touch(other, "a.py", "gen/b.py")
    project.mkdir()
    result = discover([other], Config(root=project, extend_exclude=("gen/",)), root=project)
    assert [f.name for f in result.files] == ["a.py"]


def test_explicit_directory_that_gitignore_excludes_is_walked(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    touch(tmp_path, "out/x.py", "out/skip.py", "other/y.py")
    (tmp_path / ".gitignore").write_text("out/\nother/\nskip.py\n")
    assert found(tmp_path, paths=["out"]) == ["out/x.py"]
    assert found(tmp_path) == []
