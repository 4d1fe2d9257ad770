"""Sync code that runs on the event loop: callbacks, framework hooks, and what they call.

A blocking call in a plain ``def`` is only a bug when that function runs on the
event loop.  Three things put a sync function there:

* the loop itself: a function handed to ``loop.call_soon``,
  ``call_soon_threadsafe``, ``call_later``, ``call_at``, ``add_signal_handler``,
  ``add_reader``/``add_writer`` or ``Future.add_done_callback`` (the catalog's
  ``[loop_callbacks]``, with the callback's argument index);
* a framework, described by a *profile* (``catalog/profiles/*.toml``, or a TOML
  file of the user's): decorators that mark loop-bound functions (Home
  Assistant's ``@callback``), base classes whose properties and named methods
  the framework calls on its loop (``Entity`` properties, read when the state
  is written), function-name conventions (``async_*``), extra callback
  registrars;
* being called by a loop-bound function: loop-bound-ness propagates through
  the calls (and property reads) to the project's sync functions.

A profile can also say which decorators mark functions the framework runs in a
worker thread (Starlette/FastAPI ``def`` endpoints): those are never loop-bound,
and propagation stops there.  And it can mark library names async-safe, so that
library analysis never follows them.

``find_loop_bound(facts, profiles)`` gives, for every loop-bound function, why it
runs on the loop (``LoopBinding``): the root it is reached from, where that root
is registered or declared, and the chain of calls down to it.  The format of a
profile is documented in docs/profiles.md.
"""

from __future__ import annotations

import fnmatch
import functools
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .config import Config, ConfigError, _did_you_mean
from .diagnostics import Related, Span

if TYPE_CHECKING:
    from .summary import ProjectFacts, Site

PROFILES_DIR = Path(__file__).parent / "catalog" / "profiles"

# `profiles = [...]` in the config: these two words are not profile names.
AUTO = "auto"  # switch on every bundled profile whose `detect` modules the project imports
NONE = "none"  # no profile at all

# Method names that only an asyncio loop, future or task registers a callback
# with: used when the receiver's type cannot be resolved (``self.hass.loop``).
LOOP_CALLBACK_METHODS: dict[str, int] = {
    "call_soon": 0,
    "call_soon_threadsafe": 0,
    "call_later": 1,
    "call_at": 1,
    "add_signal_handler": 1,
    "add_reader": 1,
    "add_writer": 1,
    "add_done_callback": 0,
}

_PROFILE_KEYS = (
    "name", "description", "detect", "advice", "async_safe", "decorators", "classes", "names",
    "callbacks", "thread",
)


@dataclass(frozen=True)
class DecoratorRule:
    patterns: tuple[str, ...]  # qualified decorator names, fnmatch patterns
    reason: str


@dataclass(frozen=True)
class ClassRule:
    bases: tuple[str, ...]  # qualified base class names, fnmatch patterns
    properties: str | tuple[str, ...]  # "all" | "public" | "none" | property names
    methods: tuple[str, ...]  # method names, fnmatch patterns
    reason: str

    def covers_property(self, name: str) -> bool:
        if isinstance(self.properties, tuple):
            return name in self.properties
        if self.properties == "all":
            return True
        return self.properties == "public" and not name.startswith("_")

    def covers_method(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.methods)


@dataclass(frozen=True)
class NameRule:
    patterns: tuple[str, ...]  # function names (not qualified), fnmatch patterns
    reason: str


@dataclass(frozen=True)
class Profile:
    name: str
    source: str  # the file it was read from
    description: str = ""
    detect: tuple[str, ...] = ()
    advice: str | None = None  # how to take blocking work off the loop in this framework
    async_safe: tuple[str, ...] = ()
    decorators: tuple[DecoratorRule, ...] = ()
    classes: tuple[ClassRule, ...] = ()
    names: tuple[NameRule, ...] = ()
    callbacks: Mapping[str, int] = field(default_factory=dict)
    thread_decorators: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# Loading


def bundled_profiles() -> dict[str, Path]:
    """The profiles shipped with asyncsense, by name."""
    if not PROFILES_DIR.is_dir():
        return {}
    return {path.stem: path for path in sorted(PROFILES_DIR.glob("*.toml"))}


@functools.lru_cache(maxsize=32)
def _load_cached(path: str, mtime_ns: int) -> Profile:
    return parse_profile(Path(path).read_bytes(), path)


def load_profile(name_or_path: str, base_dir: Path | None = None) -> Profile:
    """A bundled profile by name, or a TOML file (``*.toml``, relative to ``base_dir``)."""
    if name_or_path.endswith(".toml"):
        path = Path(name_or_path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    else:
        bundled = bundled_profiles()
        if name_or_path not in bundled:
            known = ", ".join(sorted(bundled)) or "none"
            hint = _did_you_mean(name_or_path, [*bundled, AUTO, NONE])
            raise ConfigError(
                f"unknown profile {name_or_path!r}{hint} (bundled: {known}; or give the path of a .toml file)",
                key="profiles",
            )
        path = bundled[name_or_path]
    try:
        return _load_cached(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError) as exc:  # ValueError: a null byte in the path
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"profile {str(path)!r}: cannot read: {reason}", key="profiles") from None


def parse_profile(data: bytes, source: str) -> Profile:
    """Read and validate a profile; every problem raises ConfigError naming the file and key."""

    def error(key: str, problem: str) -> ConfigError:
        return ConfigError(f"profile {source}: '{key}': {problem}", key=key, source=source)

    try:
        table = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"profile {source}: invalid TOML: {exc}", source=source) from None
    for key in table:
        if key not in _PROFILE_KEYS:
            raise error(key, f"unknown key (known: {', '.join(_PROFILE_KEYS)})")

    def strings(value: object, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise error(key, "expected a string or an array of strings")
        return tuple(value)

    def text(value: object, key: str) -> str:
        if not isinstance(value, str):
            raise error(key, "expected a string")
        return value

    def tables(key: str, allowed: tuple[str, ...]) -> list[dict]:
        value = table.get(key, [])
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise error(key, f"expected tables ([[{key}]])")
        for item in value:
            for inner in item:
                if inner not in allowed:
                    raise error(f"{key}.{inner}", f"unknown key (known: {', '.join(allowed)})")
        return value

    decorators = tuple(
        DecoratorRule(strings(item.get("names", []), "decorators.names"), text(item.get("reason", ""), "decorators.reason"))
        for item in tables("decorators", ("names", "reason"))
    )
    classes = []
    for item in tables("classes", ("bases", "properties", "methods", "reason")):
        properties = item.get("properties", "none")
        if isinstance(properties, str):
            if properties not in ("all", "public", "none"):
                raise error("classes.properties", "expected 'all', 'public', 'none' or an array of names")
        else:
            properties = strings(properties, "classes.properties")
        classes.append(
            ClassRule(
                strings(item.get("bases", []), "classes.bases"),
                properties,
                strings(item.get("methods", []), "classes.methods"),
                text(item.get("reason", ""), "classes.reason"),
            )
        )
    names = tuple(
        NameRule(strings(item.get("patterns", []), "names.patterns"), text(item.get("reason", ""), "names.reason"))
        for item in tables("names", ("patterns", "reason"))
    )
    callbacks = table.get("callbacks", {})
    if not isinstance(callbacks, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in callbacks.values()):
        raise error("callbacks", "expected a table of qualified name = argument index")
    thread = table.get("thread", {})
    if not isinstance(thread, dict) or any(key not in ("decorators", "reason") for key in thread):
        raise error("thread", "expected a table with 'decorators' (and 'reason')")
    advice = table.get("advice")
    return Profile(
        name=text(table.get("name", Path(source).stem), "name"),
        source=source,
        description=text(table.get("description", ""), "description"),
        detect=strings(table.get("detect", []), "detect"),
        advice=text(advice, "advice") if advice is not None else None,
        async_safe=strings(table.get("async_safe", []), "async_safe"),
        decorators=decorators,
        classes=tuple(classes),
        names=names,
        callbacks=dict(callbacks),
        thread_decorators=strings(thread.get("decorators", []), "thread.decorators"),
    )


@dataclass(frozen=True)
class ProfileSet:
    """The profiles in effect for a project, with the lookups the analysis needs."""

    profiles: tuple[Profile, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(profile.name for profile in self.profiles)

    @functools.cached_property
    def callbacks(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for profile in self.profiles:
            merged.update(profile.callbacks)
        return merged

    @functools.cached_property
    def async_safe(self) -> tuple[str, ...]:
        return tuple(pattern for profile in self.profiles for pattern in profile.async_safe)

    def decorator_rule(self, decorators: Iterable[str]) -> tuple[Profile, DecoratorRule, int] | None:
        """The first profile rule a function's (qualified) decorators match, with the decorator's index."""
        decorators = tuple(decorators)
        for profile in self.profiles:
            for rule in profile.decorators:
                for position, decorator in enumerate(decorators):
                    if decorator and _matches(decorator, rule.patterns):
                        return profile, rule, position
        return None

    def runs_in_thread(self, decorators: Iterable[str]) -> Profile | None:
        for decorator in decorators:
            if not decorator:
                continue
            for profile in self.profiles:
                if _matches(decorator, profile.thread_decorators):
                    return profile
        return None

    def class_rules(self, bases: Iterable[str]) -> list[tuple[Profile, ClassRule, str]]:
        """Profile rules whose base patterns match one of ``bases``, with the base matched."""
        found = []
        bases = tuple(bases)
        for profile in self.profiles:
            for rule in profile.classes:
                for base in bases:
                    if _matches(base, rule.bases):
                        found.append((profile, rule, base))
                        break
        return found

    def name_rule(self, name: str) -> tuple[Profile, NameRule] | None:
        for profile in self.profiles:
            for rule in profile.names:
                if _matches(name, rule.patterns):
                    return profile, rule
        return None


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def select_profiles(
    config: Config,
    imported_modules: Iterable[str],
    base_dir: Path | None = None,
    errors: list[ConfigError] | None = None,
) -> ProfileSet:
    """The profiles ``config.profiles`` names (default ``["auto"]``: detected from the imports).

    A profile that cannot be loaded raises ConfigError, or - with ``errors`` -
    is left out and its error appended there.
    """
    requested = tuple(config.profiles) or (AUTO,)
    if NONE in requested:
        return ProfileSet()
    base = config.root or base_dir
    chosen: dict[str, Profile] = {}
    for name in requested:
        if name == AUTO:
            continue
        try:
            profile = load_profile(name, base)
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        chosen.setdefault(profile.source, profile)
    if AUTO in requested:
        imported = set(imported_modules)
        for path in bundled_profiles().values():
            profile = load_profile(str(path))
            if profile.source in chosen:
                continue
            if any(_imports(imported, module) for module in profile.detect):
                chosen[profile.source] = profile
    return ProfileSet(tuple(chosen.values()))


def _imports(imported: set[str], module: str) -> bool:
    if module in imported:
        return True
    prefix = module + "."
    return any(name.startswith(prefix) for name in imported)


# ---------------------------------------------------------------------------
# Loop-bound functions


@dataclass(frozen=True)
class LoopRoot:
    """A sync function that runs on the loop for a reason of its own."""

    function: str
    reason: str  # completes "`f` runs on the event loop: ..."
    where: Related | None  # where it is registered / declared loop-bound
    advice: str | None = None


@dataclass(frozen=True)
class LoopBinding:
    """Why a sync function runs on the loop: its root, and the calls from the root down to it."""

    function: str
    root: LoopRoot
    chain: tuple[Site, ...] = ()


def find_loop_bound(facts: ProjectFacts, profiles: ProfileSet) -> dict[str, LoopBinding]:
    """Every loop-bound sync function of the project, with why (deterministic: roots in source order)."""
    index = facts.index
    thread_run: set[str] = {
        qualname
        for qualname, decl in index.functions.items()
        if decl.decorators and profiles.runs_in_thread(decl.decorators) is not None
    }

    def eligible(qualname: str) -> bool:
        if qualname in thread_run:
            return False
        function = facts.functions.get(qualname)
        if function is None or function.is_async:
            return False
        decl = index.functions.get(qualname)
        return decl is None or not decl.creates_coroutine

    roots: list[LoopRoot] = []
    roots.extend(_callback_roots(facts, profiles))
    roots.extend(_profile_roots(facts, profiles))
    roots.sort(key=lambda root: (root.where.path, root.where.span) if root.where else ("", Span.of(0, 0, 0, 0)))

    bound: dict[str, LoopBinding] = {}
    queue: deque[LoopBinding] = deque()
    for root in roots:
        if root.function in bound or not eligible(root.function):
            continue
        binding = LoopBinding(root.function, root)
        bound[root.function] = binding
        queue.append(binding)
    while queue:
        binding = queue.popleft()
        function = facts.functions[binding.function]
        if not function.refined and facts.refine is not None:
            facts.refine(function)
        for call in function.calls:
            callee = call.target
            if callee in bound or not eligible(callee):
                continue
            propagated = LoopBinding(callee, binding.root, (*binding.chain, call))
            bound[callee] = propagated
            queue.append(propagated)
    return bound


def _callback_roots(facts: ProjectFacts, profiles: ProfileSet) -> Iterable[LoopRoot]:
    catalog = facts.catalog
    registrars: dict[str, int] = dict(catalog.loop_callbacks) if catalog is not None else {}
    registrars.update(profiles.callbacks)
    for module in facts.modules.values():
        for reference in module.references:
            receiver = reference.receiver
            if receiver is not None and catalog is not None:
                receiver = catalog.canonical(receiver)
            position = registrars.get(receiver) if receiver is not None else None
            if position is None and _loop_like(receiver, facts):
                # A receiver typed no further than "some attribute" (``self.hass.loop``):
                # these method names are asyncio's.
                position = LOOP_CALLBACK_METHODS.get(reference.method)
            if position is None or position != reference.position:
                continue
            yield LoopRoot(
                reference.function,
                f"it is a callback registered with `{reference.text}`",
                Related(reference.site.path, reference.site.span, f"registered with `{reference.text}` here"),
                "loop.run_in_executor(None, ...) from a coroutine, or move the work out of the callback",
            )


def _loop_like(receiver: str | None, facts: ProjectFacts) -> bool:
    """Could the receiver be an event loop, future or task (not a thread pool's future, not project code)?"""
    if receiver is None:
        return True
    if receiver in facts.index.functions or receiver.startswith(_NOT_LOOP_PREFIXES):
        return False
    return True


# Receivers whose callbacks run in other threads (or right away).
_NOT_LOOP_PREFIXES = ("concurrent.", "threading.", "multiprocessing.", "queue.", "sched.", "signal.")


def _profile_roots(facts: ProjectFacts, profiles: ProfileSet) -> Iterable[LoopRoot]:
    if not profiles.profiles:
        return
    index = facts.index
    from .summary import header_span

    decorator_spans: dict[str, tuple[Span, ...]] = {}
    class_headers: dict[str, tuple[int, int, int]] = {}
    def_headers: dict[str, tuple[int, int, int]] = {}
    for module in facts.modules.values():
        decorator_spans.update(module.decorators)
        class_headers.update(module.classes)
        def_headers.update(module.definitions)

    def def_span(qualname: str) -> Span | None:
        found = def_headers.get(qualname)
        return header_span(found) if found else None

    for qualname, decl in index.functions.items():
        if decl.is_async:
            continue
        matched = profiles.decorator_rule(decl.decorators) if decl.decorators else None
        if matched is not None:
            profile, rule, position = matched
            spans = decorator_spans.get(qualname, ())
            span = spans[position] if position < len(spans) else def_span(qualname)
            shown = decl.decorators[position].rsplit(".", 1)[-1]
            yield LoopRoot(
                qualname,
                rule.reason or f"it is decorated with `@{shown}` ({profile.name} profile)",
                Related(decl.path, span, f"`@{shown}`: {profile.name} runs it on the event loop") if span else None,
                profile.advice,
            )
            continue
        named = profiles.name_rule(decl.name)
        if named is not None:
            profile, rule = named
            span = def_span(qualname)
            yield LoopRoot(
                qualname,
                rule.reason or f"its name follows the {profile.name} convention for loop-bound functions",
                Related(decl.path, span, f"`{decl.name}` is named like a loop-bound function ({profile.name})")
                if span
                else None,
                profile.advice,
            )

    for class_qualname, decl in index.classes.items():
        mro = index.mro(class_qualname)
        # Library bases, and project ones too (in the framework's own repository
        # `Entity` is a project class).
        matches = profiles.class_rules(mro)
        if not matches:
            continue
        found = class_headers.get(class_qualname)
        span = header_span(found) if found else None
        for owner in mro:
            owner_decl = index.classes.get(owner)
            if owner_decl is None:
                continue
            for member, function_qualname in owner_decl.methods.items():
                function = index.functions.get(function_qualname)
                if function is None or function.is_async:
                    continue
                for profile, rule, base in matches:
                    covered = (
                        rule.covers_property(member) if function.is_property else rule.covers_method(member)
                    )
                    if not covered:
                        continue
                    kind = "property" if function.is_property else "method"
                    base_name = base.rsplit(".", 1)[-1]
                    reason = rule.reason or f"{profile.name} calls it on the event loop"
                    yield LoopRoot(
                        function_qualname,
                        f"it is a {kind} of `{decl.name}`, a `{base_name}` subclass, and {reason}",
                        Related(decl.path, span, f"`{decl.name}` subclasses `{base_name}` ({profile.name} profile)")
                        if span
                        else None,
                        profile.advice,
                    )
                    break
