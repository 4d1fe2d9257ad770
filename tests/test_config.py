"""Loading and validating `[tool.asyncsense]` and the editor's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncsense.analyzers.config import (
    DEFAULT_EXCLUDE,
    Config,
    ConfigError,
    ExtraBlockingCall,
    apply_config,
    config_from_settings,
    find_config,
    load_config,
    resolve_rules,
)
from asyncsense.analyzers.diagnostics import Diagnostic, Severity, Span


def write_pyproject(directory: Path, body: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text("[project]\nname = 'demo'\n\n[tool.asyncsense]\n" + body, encoding="utf-8")
    return path


def diag(rule: str, code: str, path: str = "a.py", severity: Severity = Severity.WARNING) -> Diagnostic:
    return Diagnostic(rule, code, "message", path, Span.of(1, 0, 1, 1), severity)


# -- a full, valid config ------------------------------------------------------


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    path = write_pyproject(
        tmp_path,
        """
select = ["ASN001", "dangling-task", "ASN00"]
ignore = ["loop-starvation"]
exclude = ["generated/"]
extend-exclude = ["legacy/*.py"]
extra-blocking-calls = ["mylib.fetch", { name = "mylib.Client.get", category = "network", replacement = "mylib.aio.get" }]
allowed-calls = ["time.sleep"]
python = "venv/bin/python"
strict-gather = true
profiles = ["fastapi"]
target-version = "py311"

[tool.asyncsense.per-file-ignores]
"tests/*" = ["blocking-call", "ASN003"]

[tool.asyncsense.severity]
blocking-call = "error"
ASN002 = "hint"
""",
    )
    config = load_config(path)
    assert config.select == frozenset(
        {
            "blocking-call",
            "unawaited-coroutine",
            "dangling-task",
            "gather-lost-exceptions",
            "nested-asyncio-run",
            "loop-starvation",
            "unclosed-async-resource",
        }
    )
    assert config.ignore == {"loop-starvation"}
    assert config.per_file_ignores == {"tests/*": {"blocking-call", "dangling-task"}}
    assert config.exclude == ("generated/",)
    assert config.extend_exclude == ("legacy/*.py",)
    assert config.extra_blocking_calls == (
        ExtraBlockingCall("mylib.fetch", "custom", None),
        ExtraBlockingCall("mylib.Client.get", "network", "mylib.aio.get"),
    )
    assert config.allowed_calls == {"time.sleep"}
    assert config.python == str(tmp_path / "venv/bin/python")
    assert config.strict_gather is True
    assert config.profiles == ("fastapi",)
    assert config.target_version == (3, 11)
    assert config.severity == {"blocking-call": Severity.ERROR, "unawaited-coroutine": Severity.HINT}
    assert config.root == tmp_path
    assert config.config_file == path


def test_defaults() -> None:
    config = Config()
    assert config.select is None
    assert ".git" in config.exclude and "node_modules" in config.exclude
    assert config.exclude == DEFAULT_EXCLUDE


def test_pyproject_without_table_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n")
    config = load_config(path)
    assert config.select is None and config.root == tmp_path


def test_standalone_toml_uses_top_level_keys(tmp_path: Path) -> None:
    path = tmp_path / "asyncsense.toml"
    path.write_text('select = ["blocking-call"]\n')
    assert load_config(path).select == {"blocking-call"}


# -- finding the config -------------------------------------------------------


def test_find_config_walks_up_to_first_pyproject_with_our_table(tmp_path: Path) -> None:
    outer = write_pyproject(tmp_path, 'select = ["ASN001"]\n')
    inner = tmp_path / "pkg"
    (inner / "sub").mkdir(parents=True)
    (inner / "pyproject.toml").write_text("[project]\nname = 'inner'\n")  # no [tool.asyncsense]: skipped
    (inner / "sub" / "mod.py").write_text("")
    assert find_config(inner / "sub" / "mod.py") == outer
    assert find_config(inner / "sub") == outer
    assert find_config(tmp_path) == outer


def test_find_config_none(tmp_path: Path) -> None:
    assert find_config(tmp_path / "nowhere.py") is None


def test_find_config_returns_broken_file_that_mentions_us(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.asyncsense]\nselect = [\n")
    assert find_config(tmp_path) == path
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


# -- errors: each names the file and the key -----------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('selct = ["ASN001"]\n', r"unknown key 'selct' in \[tool.asyncsense\] \(did you mean 'select'\?\)"),
        ('per_file_ignores = {}\n', r"unknown key 'per_file_ignores'.*did you mean 'per-file-ignores'"),
        ("select = 'ASN001'\n", r"'select': expected an array of rule names or codes, got string 'ASN001'"),
        ("select = [1]\n", r"'select': expected an array .* contains number 1"),
        ('select = ["blocking-cal"]\n', r"'select': unknown rule 'blocking-cal' \(did you mean 'blocking-call'\?\)"),
        ('ignore = ["ASN999"]\n', r"'ignore': unknown rule 'ASN999'"),
        ("strict-gather = 1\n", r"'strict-gather': expected true or false, got number 1"),
        ('target-version = "3.11"\n', r"'target-version': expected a version like 'py311'"),
        ("python = 3\n", r"'python': expected the path of a Python interpreter"),
        ('profiles = "django"\n', r"'profiles': expected an array of profile names"),
        ("exclude = 'build'\n", r"'exclude': expected an array of path patterns"),
        ("allowed-calls = ['not a name']\n", r"'allowed-calls': 'not a name' is not a qualified name"),
        ("extra-blocking-calls = [{ category = 'network' }]\n", r"'extra-blocking-calls': item 1: missing 'name'"),
        (
            "extra-blocking-calls = [{ name = 'a.b', categry = 'network' }]\n",
            r"item 1: unknown key 'categry' \(did you mean 'category'\?\)",
        ),
        ("extra-blocking-calls = [3]\n", r"item 1: expected a qualified name or a"),
        ("extra-blocking-calls = [{ name = 'a.b', replacement = 1 }]\n", r"'replacement' must be a string"),
        ("[tool.asyncsense.severity]\nblocking-call = 'fatal'\n", r"'severity': 'blocking-call': level must be one of"),
        ("[tool.asyncsense.severity]\nno-such-rule = 'error'\n", r"'severity': unknown rule 'no-such-rule'"),
        ("per-file-ignores = ['x']\n", r"'per-file-ignores': expected a table"),
        ("[tool.asyncsense.per-file-ignores]\n'tests/*' = ['nope']\n", r"'per-file-ignores': 'tests/\*': unknown rule 'nope'"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = write_pyproject(tmp_path, body)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, "select = [\nignore = 3\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: invalid TOML: .*line \d+"):
        load_config(path)


def test_table_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool]\nasyncsense = 3\n")
    with pytest.raises(ConfigError, match="'tool.asyncsense' must be a table"):
        load_config(path)


def test_missing_and_directory_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[tool.asyncsense]\n# \xff\xfe\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config(path)


# -- rule selectors -------------------------------------------------------------


def test_resolve_rules() -> None:
    assert resolve_rules(["asn001"]) == {"blocking-call"}
    assert resolve_rules(["Blocking-Call"]) == {"blocking-call"}
    assert len(resolve_rules(["ALL"])) == 7
    assert len(resolve_rules(["ASN"])) == 7
    with pytest.raises(ConfigError, match="did you mean 'dangling-task'"):
        resolve_rules(["danglin-task"])
    with pytest.raises(ConfigError, match="unknown rule 'XYZ1'"):
        resolve_rules(["XYZ1"])


# -- editor settings ------------------------------------------------------------


def test_settings() -> None:
    config = config_from_settings(
        {
            "select": ["blocking-call"],
            "ignore": ["ASN002"],
            "severity": {"blocking-call": "error"},
            "interpreter": ["/usr/bin/python3"],
            "extraBlockingCalls": ["mylib.fetch", {"name": "x.y", "category": "file"}],
            "strictGather": True,
            "trace": {"server": "verbose"},  # the editor's own keys are ignored
            "targetVersion": None,  # null: unset
        }
    )
    assert config.select == {"blocking-call"}
    assert config.ignore == {"unawaited-coroutine"}
    assert config.severity == {"blocking-call": Severity.ERROR}
    assert config.python == "/usr/bin/python3"
    assert config.extra_blocking_calls == (ExtraBlockingCall("mylib.fetch"), ExtraBlockingCall("x.y", "file"))
    assert config.strict_gather is True
    assert config.target_version is None


def test_settings_override_base(tmp_path: Path) -> None:
    base = load_config(write_pyproject(tmp_path, 'select = ["ASN001"]\nstrict-gather = true\n'))
    config = config_from_settings({"ignore": ["ASN003"]}, base=base)
    assert config.select == {"blocking-call"} and config.strict_gather is True
    assert config.ignore == {"dangling-task"}
    assert config.root == tmp_path
    assert base.ignore == frozenset()  # not modified


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"select": "ASN001"}, r"settings: 'select': expected an array"),
        ({"severity": {"ASN001": "loud"}}, r"settings: 'severity': 'ASN001': level must be one of"),
        ({"interpreter": 3}, r"settings: 'interpreter': expected the path"),
        ({"extraBlockingCalls": [{"nam": "x"}]}, r"'extraBlockingCalls': item 1: unknown key 'nam'"),
        ({"strictGather": "yes"}, r"'strictGather': expected true or false, got string 'yes'"),
        ({"ignore": ["bogus"]}, r"'ignore': unknown rule 'bogus'"),
    ],
)
def test_settings_errors(settings: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        config_from_settings(settings)


def test_settings_strict_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="unknown key 'selct'.*did you mean 'select'"):
        config_from_settings({"selct": []}, strict=True)
    with pytest.raises(ConfigError, match="expected an object"):
        config_from_settings([])  # type: ignore[arg-type]


# -- applying a config to diagnostics -------------------------------------------


def test_apply_config_select_ignore_per_file_and_severity(tmp_path: Path) -> None:
    config = Config(
        select=frozenset({"blocking-call", "dangling-task", "unawaited-coroutine"}),
        ignore=frozenset({"unawaited-coroutine"}),
        per_file_ignores={"tests/*": frozenset({"dangling-task"}), "legacy_*.py": frozenset({"ASN001"})},
        severity={"dangling-task": Severity.ERROR},
        root=tmp_path,
    )
    diagnostics = [
        diag("blocking-call", "ASN001", str(tmp_path / "src/a.py")),
        diag("dangling-task", "ASN003", str(tmp_path / "src/a.py")),
        diag("unawaited-coroutine", "ASN002", str(tmp_path / "src/a.py")),
        diag("loop-starvation", "ASN006", str(tmp_path / "src/a.py")),
        diag("dangling-task", "ASN003", str(tmp_path / "tests/test_a.py")),
        diag("blocking-call", "ASN001", str(tmp_path / "deep/legacy_x.py")),
    ]
    kept = apply_config(diagnostics, config)
    assert [(d.code, Path(d.path).name, d.severity) for d in kept] == [
        ("ASN001", "a.py", Severity.WARNING),
        ("ASN003", "a.py", Severity.ERROR),
    ]


def test_config_built_by_hand_with_codes() -> None:
    config = Config(select=frozenset({"ASN001"}), ignore=frozenset({"ASN0"}))
    assert not config.is_enabled("blocking-call", "ASN001")
    config = Config(select=frozenset({"ASN001", "dangling-task"}))
    assert config.is_enabled("blocking-call", "ASN001")
    assert config.is_enabled("dangling-task", "ASN003")
    assert not config.is_enabled("loop-starvation", "ASN006")
