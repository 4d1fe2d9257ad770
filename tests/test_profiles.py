"""Framework profiles: which sync code a framework runs on its loop (docs/profiles.md).

Fixture projects mark what must be reported with ``# blocks: NAME`` and what
must not with ``# ok``: a Home Assistant integration (``@callback``, entity
properties, ``async_*`` names, a helper reached from a loop callback, sync
``update()`` and executor jobs that stay quiet) and a FastAPI app (sync
endpoints run in the thread pool: quiet; a sync startup handler: reported).
"""

from __future__ import annotations

import io
import re
import textwrap
import tokenize
from pathlib import Path

import pytest

from asyncsense.analyzers.config import Config, ConfigError, config_from_settings, load_config
from asyncsense.analyzers.diagnostics import Diagnostic
from asyncsense.analyzers.profiles import (
    LOOP_CALLBACK_METHODS,
    bundled_profiles,
    load_profile,
    parse_profile,
    select_profiles,
)
from asyncsense.analyzers.project import Project

FIXTURES = Path(__file__).parent / "fixtures" / "issue9"
HA = FIXTURES / "ha_integration"
FASTAPI = FIXTURES / "fastapi_app"


def markers(path: Path) -> tuple[dict[int, str], set[int]]:
    blocks: dict[int, str] = {}
    fine: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type != tokenize.COMMENT:
            continue
        found = re.match(r"# blocks: (\S+)", token.string)
        if found:
            blocks[token.start[0]] = found.group(1)
        elif token.string.startswith("# ok"):
            fine.add(token.start[0])
    return blocks, fine


def check_tree(root: Path, config: Config | None = None) -> dict[Path, list[Diagnostic]]:
    project = Project(root, config, library_cache_dir=False)
    files = sorted(root.rglob("*.py"))
    results = project.check(files)
    return {Path(r.path): [d for d in r.diagnostics if d.rule == "blocking-call"] for r in results}


def assert_markers(found: dict[Path, list[Diagnostic]]) -> int:
    checked = 0
    for path, diagnostics in found.items():
        lines: dict[int, list[str]] = {}
        for diagnostic in diagnostics:
            lines.setdefault(diagnostic.span.start.line, []).append(diagnostic.message)
        blocks, fine = markers(path)
        for line, name in blocks.items():
            assert any(f"`{name}`" in m for m in lines.get(line, [])), (path.name, line, name, lines.get(line))
            checked += 1
        for line in fine:
            assert line not in lines, (path.name, line, lines[line])
            checked += 1
    return checked


@pytest.fixture(scope="module")
def home_assistant() -> dict[Path, list[Diagnostic]]:
    return check_tree(HA)  # no config: the profile is switched on by the imports


def test_home_assistant_integration_markers(home_assistant: dict[Path, list[Diagnostic]]) -> None:
    assert assert_markers(home_assistant) >= 12


def _one(found: dict[Path, list[Diagnostic]], name: str, fragment: str) -> tuple[Diagnostic, list[str]]:
    [path] = [p for p in found if p.name == name]
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if fragment in text)
    [diagnostic] = [d for d in found[path] if d.span.start.line == line]
    return diagnostic, lines


def test_callback_decorator(home_assistant: dict[Path, list[Diagnostic]]) -> None:
    diagnostic, lines = _one(home_assistant, "__init__.py", 'open("/config/demo.log"')
    assert "`_on_event` runs on the event loop because it is decorated with `@callback`" in diagnostic.message
    assert "hass.async_add_executor_job" in diagnostic.message  # the profile's advice
    [decorator] = diagnostic.related
    assert lines[decorator.span.start.line - 1].strip() == "@callback"


def test_entity_property_and_what_it_calls(home_assistant: dict[Path, list[Diagnostic]]) -> None:
    diagnostic, lines = _one(home_assistant, "sensor.py", 'os.listdir("/media"))  # blocks')
    assert "it is a property of `DiskSensor`, a `SensorEntity` subclass" in diagnostic.message
    [declared] = diagnostic.related
    assert lines[declared.span.start.line - 1].startswith("class DiskSensor(SensorEntity)")
    helper, _ = _one(home_assistant, "sensor.py", 'os.path.ismount("/media")')
    assert "it is called from `DiskSensor.extra_state_attributes`" in helper.message


def test_helper_in_another_module_reached_from_a_loop_callback(home_assistant: dict[Path, list[Diagnostic]]) -> None:
    diagnostic, _ = _one(home_assistant, "storage.py", "Path(f\"/config/{entry_id}.json\").read_text()")
    assert "`read_settings` runs on the event loop: it is called from `_warm_up`" in diagnostic.message
    registered = diagnostic.related[0]
    assert "hass.loop.call_soon" in registered.message and registered.path.endswith("__init__.py")


def test_profiles_none_switches_the_profile_off() -> None:
    found = check_tree(HA, Config(profiles=("none",)))
    messages = [d.message for diagnostics in found.values() for d in diagnostics]
    assert not [m for m in messages if "@callback" in m or "Entity" in m or "async_*" in m]
    # The loop's own callbacks need no profile.
    assert any("hass.loop.call_soon" in m for m in messages)


def test_fastapi_thread_pool_handlers_stay_quiet() -> None:
    found = check_tree(FASTAPI)
    assert assert_markers(found) >= 7
    [diagnostics] = found.values()
    startup = [d for d in diagnostics if "load_model" in d.message]
    assert startup and "sync startup/shutdown handler" in startup[0].message


# -- writing a profile -------------------------------------------------------------------

CUSTOM_PROFILE = """
name = "gadgets"
description = "The in-house gadget framework"
advice = "`gadgets.offload(func)`"
async_safe = ["gadgets.fast"]

[[decorators]]
names = ["gadgets.on_loop"]
reason = "it is decorated with `@on_loop` (gadgets dispatches those on its loop)"

[[classes]]
bases = ["gadgets.Widget*"]
properties = ["label"]
methods = ["render", "on_*"]
reason = "gadgets renders widgets on the loop"

[[names]]
patterns = ["loop_*"]

[callbacks]
"gadgets.Scheduler.defer" = 0

[thread]
decorators = ["gadgets.in_thread"]
"""

CUSTOM_APP = """
import time
import gadgets
from gadgets import Scheduler, Widget, on_loop, in_thread


@on_loop
def refresh():
    time.sleep(1)  # blocks: time.sleep


@in_thread
def loop_background():
    time.sleep(1)  # ok


def loop_poll():
    time.sleep(1)  # blocks: time.sleep


class Clock(Widget):
    @property
    def label(self):
        return open("/etc/timezone").read()  # blocks: builtins.open

    @property
    def other(self):
        return open("/etc/hostname").read()  # ok

    def render(self):
        time.sleep(0.1)  # blocks: time.sleep

    def on_click(self):
        time.sleep(0.1)  # blocks: time.sleep

    def update(self):
        time.sleep(0.1)  # ok


def tick():
    time.sleep(1)  # blocks: time.sleep


def start(scheduler: Scheduler):
    scheduler.defer(tick)
"""


def _custom(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "profiles").mkdir(parents=True)
    (root / "profiles" / "gadgets.toml").write_text(CUSTOM_PROFILE)
    (root / "app.py").write_text(CUSTOM_APP)
    return root


def test_a_profile_of_ones_own(tmp_path: Path) -> None:
    root = _custom(tmp_path)
    (root / "pyproject.toml").write_text('[tool.asyncsense]\nprofiles = ["profiles/gadgets.toml"]\n')
    config = load_config(root / "pyproject.toml")
    assert config.profiles == ("profiles/gadgets.toml",)
    found = check_tree(root, config)
    assert assert_markers(found) == 9
    [diagnostics] = found.values()
    refresh = next(d for d in diagnostics if "`refresh`" in d.message)
    assert "decorated with `@on_loop` (gadgets dispatches those on its loop)" in refresh.message
    assert "gadgets.offload(func)" in refresh.message
    tick = next(d for d in diagnostics if "`tick`" in d.message)
    assert "registered with `scheduler.defer`" in tick.message


def test_without_the_profile_the_framework_code_is_quiet(tmp_path: Path) -> None:
    root = _custom(tmp_path)
    found = check_tree(root)  # "auto": gadgets is no bundled profile
    assert not [d for diagnostics in found.values() for d in diagnostics]


def test_profiles_in_editor_settings(tmp_path: Path) -> None:
    root = _custom(tmp_path)
    base = Config(root=root)
    config = config_from_settings({"profiles": ["homeassistant", "profiles/gadgets.toml"], "followLibraries": False}, base=base)
    assert config.profiles == ("homeassistant", "profiles/gadgets.toml") and config.follow_libraries is False
    # Names and files are checked as in the TOML: a typo is the user's to fix, not silently dropped.
    with pytest.raises(ConfigError, match=r"'profiles': unknown profile 'homeasistant' \(did you mean 'homeassistant'\?\)"):
        config_from_settings({"profiles": ["homeasistant"]}, base=base)
    with pytest.raises(ConfigError, match=r"'profiles': profile .*nowhere.toml.*cannot read"):
        config_from_settings({"profiles": ["profiles/nowhere.toml"]}, base=base)


def test_unknown_profile_in_pyproject_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.asyncsense]\nprofiles = ["auto", "djang"]\n')
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "pyproject.toml")
    assert str(tmp_path / "pyproject.toml") in str(raised.value)
    assert "'profiles': unknown profile 'djang'" in str(raised.value)


# -- the format and its errors ---------------------------------------------------------------


def test_bundled_profiles_load() -> None:
    bundled = bundled_profiles()
    assert {"homeassistant", "fastapi"} <= set(bundled)
    for name in bundled:
        profile = load_profile(name)
        assert profile.name == name and profile.detect and profile.description
    home_assistant = load_profile("homeassistant")
    assert home_assistant.decorators[0].patterns == ("homeassistant.core.callback",)
    assert home_assistant.classes[0].covers_property("native_value")
    assert not home_assistant.classes[0].covers_property("_private")
    fastapi = load_profile("fastapi")
    assert fastapi.thread_decorators


def test_selection() -> None:
    assert select_profiles(Config(), {"homeassistant.core", "os"}).names == ("homeassistant",)
    assert select_profiles(Config(), {"os", "homeassistantx"}).names == ()
    assert select_profiles(Config(profiles=("fastapi",)), {"homeassistant"}).names == ("fastapi",)
    assert set(select_profiles(Config(profiles=("auto", "fastapi")), {"homeassistant"}).names) == {
        "homeassistant",
        "fastapi",
    }
    assert select_profiles(Config(profiles=("none",)), {"homeassistant"}).names == ()


def test_unknown_profile_name() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'django'.*bundled: .*homeassistant"):
        load_profile("django")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('nmae = "x"', "'nmae': unknown key"),
        ('[[classes]]\nbases = ["a.B"]\nproperties = "some"', "'classes.properties'"),
        ('[[decorators]]\nnames = [1]', "'decorators.names': expected a string or an array"),
        ('[[decorators]]\nname = "a.b"', "'decorators.name': unknown key"),
        ('[callbacks]\n"a.b" = "first"', "'callbacks'"),
        ("[thread]\nnames = []", "'thread'"),
        ("name = ", "invalid TOML"),
    ],
)
def test_format_errors_name_the_file_and_key(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(error)) as raised:
        parse_profile(text.encode(), "my.toml")
    assert "profile my.toml" in str(raised.value)


def test_loop_callback_methods_match_the_catalog() -> None:
    from asyncsense.analyzers.catalog import default_catalog

    catalog = default_catalog().loop_callbacks
    for name, position in catalog.items():
        assert LOOP_CALLBACK_METHODS[name.rsplit(".", 1)[-1]] == position


def test_home_assistant_update_runs_in_the_executor(tmp_path: Path) -> None:
    root = tmp_path / "ha"
    root.mkdir()
    (root / "light.py").write_text(
        textwrap.dedent(
            """
            import time
            from homeassistant.components.light import LightEntity

            class Lamp(LightEntity):
                def update(self):
                    time.sleep(1)

                def turn_on(self, **kwargs):
                    time.sleep(1)

                @property
                def is_on(self):
                    time.sleep(1)
                    return True
            """
        )
    )
    found = check_tree(root)
    [diagnostics] = found.values()
    assert [d.span.start.line for d in diagnostics] == [14]


def test_a_broken_profile_is_left_out_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = _custom(tmp_path)
    (root / "profiles" / "broken.toml").write_text("nmae = 1\n")
    config = Config(profiles=("profiles/broken.toml", "profiles/gadgets.toml"), root=root)
    with pytest.raises(ConfigError, match="broken.toml"):
        select_profiles(config, ())
    found = check_tree(root, config)
    assert "profile left out" in caplog.text and "broken.toml" in caplog.text
    assert assert_markers(found) == 9  # the good one still applies
