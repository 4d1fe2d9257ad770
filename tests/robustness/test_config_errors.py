"""Broken configuration: a clear message naming the key and the file, exit 2, no traceback.

Hand-written cases for each kind of mistake (invalid TOML, unknown keys, wrong
types, unknown rule names), in ``pyproject.toml`` and in a ``--config`` file;
then searches: random tables of known and unknown keys with values of every
TOML type, random bytes as a config file, random editor settings (JSON).
"""

from __future__ import annotations

import os
import string
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncsense.analyzers.config import _TOML_KEYS, ConfigError, Config, config_from_settings, load_config

from ._cli import run_check
from ._support import TALLY, fuzz

SOURCE = "import time\n\nasync def handler():\n    time.sleep(1)\n"

# (name, [tool.asyncsense] body, the key the message must name)
BROKEN = [
    ("invalid TOML: unclosed table header", "[tool.asyncsense\nselect = ['ASN001']", None),
    ("invalid TOML: unclosed string", "[tool.asyncsense]\nselect = ['ASN001]", None),
    ("invalid TOML: duplicate key", "[tool.asyncsense]\nselect = []\nselect = []", None),
    ("invalid TOML: bare value", "[tool.asyncsense]\nselect = ASN001", None),
    ("unknown key", "[tool.asyncsense]\nselekt = ['ASN001']", "selekt"),
    ("unknown key in a table", "[tool.asyncsense.rules]\nx = 1", "rules"),
    ("select is a string", "[tool.asyncsense]\nselect = 'ASN001'", "select"),
    ("select holds a number", "[tool.asyncsense]\nselect = [1]", "select"),
    ("ignore is a table", "[tool.asyncsense]\nignore = {a = 1}", "ignore"),
    ("unknown rule name", "[tool.asyncsense]\nselect = ['no-such-rule']", "select"),
    ("unknown rule code", "[tool.asyncsense]\nignore = ['ASN999']", "ignore"),
    ("unknown rule in per-file-ignores", "[tool.asyncsense]\nper-file-ignores = {'tests/*' = ['nope']}", "per-file-ignores"),
    ("per-file-ignores is an array", "[tool.asyncsense]\nper-file-ignores = ['tests/*']", "per-file-ignores"),
    ("unknown rule in severity", "[tool.asyncsense]\nseverity = {nope = 'error'}", "severity"),
    ("unknown severity level", "[tool.asyncsense]\nseverity = {blocking-call = 'fatal'}", "severity"),
    ("strict-gather is a string", "[tool.asyncsense]\nstrict-gather = 'yes'", "strict-gather"),
    ("exclude is a string", "[tool.asyncsense]\nexclude = 'build'", "exclude"),
    ("extra-blocking-calls with a number", "[tool.asyncsense]\nextra-blocking-calls = [3]", "extra-blocking-calls"),
    ("extra-blocking-calls unknown field", "[tool.asyncsense]\nextra-blocking-calls = [{name = 'a.b', kind = 'x'}]", "extra-blocking-calls"),
    ("allowed-calls not a name", "[tool.asyncsense]\nallowed-calls = ['not a name']", "allowed-calls"),
    ("python is a number", "[tool.asyncsense]\npython = 3", "python"),
    ("target-version is a number", "[tool.asyncsense]\ntarget-version = 311", "target-version"),
    ("tool.asyncsense is a string", "[tool]\nasyncsense = 'on'", "tool.asyncsense"),
    ("unknown profile name", "[tool.asyncsense]\nprofiles = ['homeassistan']", "profiles"),
    ("missing profile file", "[tool.asyncsense]\nprofiles = ['profiles/none.toml']", "profiles"),
    ("profile is not a name", "[tool.asyncsense]\nprofiles = ['a b']", "profiles"),
    ("per-file-ignores invalid glob", "[tool.asyncsense]\nper-file-ignores = {'[z-a]' = ['ASN001']}", "per-file-ignores"),
    ("exclude invalid glob", "[tool.asyncsense]\nexclude = ['!']", "exclude"),
    ("extend-exclude invalid glob", "[tool.asyncsense]\nextend-exclude = ['\\']", "extend-exclude"),
    ("severity level not a string", "[tool.asyncsense]\nseverity = {ASN001 = 1}", "severity"),
    ("extra-blocking-calls without a name", "[tool.asyncsense]\nextra-blocking-calls = [{category = 'x'}]", "extra-blocking-calls"),
]


def _assert_config_error(run, config_path: Path, key: str | None) -> None:
    assert run.code == 2, f"exit {run.code}\n{run.stderr}"
    assert run.stdout == "", "files were checked despite the broken config"
    message = run.stderr.strip()
    assert str(config_path) in message or config_path.name in message, f"the file is not named: {message}"
    if key is not None:
        assert key in message, f"the key {key!r} is not named: {message}"
    TALLY["broken configs through the CLI"] += 1


@pytest.mark.parametrize("name, body, key", BROKEN, ids=[name for name, _, _ in BROKEN])
def test_broken_pyproject(tmp_path: Path, name: str, body: str, key: str | None) -> None:
    (tmp_path / "pyproject.toml").write_text(body + "\n")
    (tmp_path / "app.py").write_text(SOURCE)
    run = run_check("app.py", "--no-jedi", "--no-cache", cwd=tmp_path)
    _assert_config_error(run, tmp_path / "pyproject.toml", key)


@pytest.mark.parametrize("name, body, key", BROKEN, ids=[name for name, _, _ in BROKEN])
def test_broken_config_file(tmp_path: Path, name: str, body: str, key: str | None) -> None:
    """The same mistakes in a standalone file given with --config (top-level keys)."""
    standalone = body.replace("[tool.asyncsense]\n", "").replace("[tool.asyncsense.", "[")
    config = tmp_path / "asyncsense.toml"
    config.write_text((body if standalone.startswith("[tool") else standalone) + "\n")
    (tmp_path / "app.py").write_text(SOURCE)
    run = run_check("app.py", "--config", config, "--no-jedi", "--no-cache", cwd=tmp_path)
    _assert_config_error(run, config, key)


def test_broken_profile_file(tmp_path: Path) -> None:
    """A profile file the config names is read with the config: its mistake names both files."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mine.toml").write_text("nmae = 'mine'\n")
    (tmp_path / "pyproject.toml").write_text("[tool.asyncsense]\nprofiles = ['profiles/mine.toml']\n")
    (tmp_path / "app.py").write_text(SOURCE)
    run = run_check("app.py", "--no-jedi", "--no-cache", cwd=tmp_path)
    _assert_config_error(run, tmp_path / "pyproject.toml", "profiles")
    assert "mine.toml" in run.stderr and "'nmae'" in run.stderr, run.stderr


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"profiles": ["homeassistan"]}, "profiles"),
        ({"perFileIgnores": {"[z-a]": ["ASN001"]}}, "perFileIgnores"),
        ({"exclude": ["!"]}, "exclude"),
        ({"severity": {"blocking-call": "fatal"}}, "severity"),
        ({"extraBlockingCalls": [{"name": "not a name"}]}, "extraBlockingCalls"),
    ],
)
def test_editor_settings_share_the_validation(settings: dict, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_settings(settings, source="asyncsense settings")
    assert key in str(raised.value) and "asyncsense settings" in str(raised.value)


def _feed_pipe(path: Path, text: str) -> None:
    """Write ``text`` into the named pipe ``path`` from a thread (reading it blocks until then)."""

    def feed() -> None:
        with open(path, "w") as pipe:
            pipe.write(text)

    threading.Thread(target=feed, daemon=True).start()


@pytest.mark.parametrize("name", ["a directory", "missing", "not UTF-8", "a named pipe"])
def test_unreadable_config_file(tmp_path: Path, name: str) -> None:
    config = tmp_path / "asyncsense.toml"
    key = None
    if name == "a directory":
        config.mkdir()
    elif name == "not UTF-8":
        config.write_bytes(b"select = ['\xff']\n")
    elif name == "a named pipe":
        os.mkfifo(config)
        _feed_pipe(config, "selekt = []\n")
        key = "selekt"
    (tmp_path / "app.py").write_text(SOURCE)
    run = run_check("app.py", "--config", config, "--no-jedi", "--no-cache", cwd=tmp_path)
    _assert_config_error(run, config, key)


# -- searches ---------------------------------------------------------------------------

_KEY_NAMES = sorted(_TOML_KEYS)
_RULE_WORDS = ["blocking-call", "ASN001", "ASN00", "ALL", "all", "nope", "", "ASN", "dangling_task", "Blocking-Call"]
_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(_RULE_WORDS),
    st.sampled_from(["py311", "py3", "py399", "py37", "error", "hint", "fatal", "a.b", "/usr/bin/python3", "~/x"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.sampled_from(_RULE_WORDS), inner, max_size=4),
    max_leaves=8,
)
_tables = st.dictionaries(st.sampled_from(_KEY_NAMES) | st.text(string.ascii_letters + "-_", min_size=1, max_size=10), _values, max_size=5)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"


def _pyproject(table: dict) -> str:
    return "[tool.asyncsense]\n" + "".join(f"{_toml(key)} = {_toml(value)}\n" for key, value in table.items())


@fuzz(300)
@given(table=_tables)
def test_random_tables_load_or_raise_config_error(tmp_path_factory, table: dict) -> None:
    """Whatever the values, load_config returns a Config or raises ConfigError naming file and key."""
    path = tmp_path_factory.mktemp("config") / "pyproject.toml"
    path.write_text(_pyproject(table), encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError as error:
        message = str(error)
        assert str(path) in message
        assert error.key is None or error.key in message or any(str(k) in message for k in table), message
    else:
        assert isinstance(config, Config)
        assert set(table) <= set(_TOML_KEYS)
    TALLY["random config tables"] += 1


@fuzz(40)
@given(table=_tables)
def test_random_tables_through_the_cli(tmp_path_factory, table: dict) -> None:
    root = tmp_path_factory.mktemp("cli_config")
    (root / "pyproject.toml").write_text(_pyproject(table), encoding="utf-8")
    (root / "app.py").write_text(SOURCE)
    run = run_check("app.py", "--no-jedi", "--no-cache", cwd=root)
    if run.code == 2:
        assert "pyproject.toml" in run.stderr, run.stderr
    TALLY["random configs through the CLI"] += 1


@fuzz(150)
@given(data=st.binary(max_size=200) | _tables.map(_pyproject).map(str.encode).flatmap(
    lambda good: st.integers(0, len(good)).map(lambda cut: good[:cut])
))
def test_random_bytes_as_config(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes_config") / "asyncsense.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as error:
        assert str(path) in str(error)
    TALLY["random config bytes"] += 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10) | st.sampled_from(_RULE_WORDS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
_SETTING_KEYS = ["select", "ignore", "severity", "interpreter", "extraBlockingCalls", "strictGather", "perFileIgnores",
                 "exclude", "extendExclude", "allowedCalls", "profiles", "targetVersion", "followLibraries"]


@fuzz(300)
@given(settings=_json | st.dictionaries(st.sampled_from(_SETTING_KEYS) | st.text(max_size=6), _json, max_size=5))
def test_random_editor_settings(settings) -> None:
    """What an editor sends in workspace/didChangeConfiguration: Config or ConfigError, nothing else."""
    try:
        config_from_settings(settings)
    except ConfigError as error:
        assert str(error)
    TALLY["random editor settings"] += 1


def test_pyproject_that_is_not_utf8_is_reported_not_skipped(tmp_path: Path) -> None:
    """Found by the search (not --config): a latin-1 byte must not make the settings vanish."""
    (tmp_path / "pyproject.toml").write_bytes(b"[project]\nname = 'caf\xe9'\n\n[tool.asyncsense]\nselect = ['ASN002']\n")
    (tmp_path / "app.py").write_text(SOURCE)
    run = run_check("app.py", "--no-jedi", "--no-cache", cwd=tmp_path)
    _assert_config_error(run, tmp_path / "pyproject.toml", None)
    assert "UTF-8" in run.stderr
