"""Following calls into installed libraries, lazily, with summaries cached on disk.

Most blocking calls that reach an event loop hide one step further than the
project's own code: a coroutine calls a sync library function (``client.login()``,
``api.get_devices()``) that blocks deep inside (``requests`` ->
``http.client.putrequest``, an SSL context that loads certificates, a file
read).  When the library is installed in the user's environment, the engine
follows the call into it:

* Lazily.  Nothing is read up front: ``ProjectFacts`` asks ``facts_for(name)``
  when a blocking-chain query - made for a call in a coroutine or in loop-bound
  code - reaches a library name.  The module that defines it is located on the
  user's interpreter's ``sys.path`` (site-packages only, never the standard
  library, whose blocking APIs the catalog lists), modelled with
  ``ModuleModel`` and resolved with the cheap ``Resolver`` (no jedi), and only
  the function asked for is summarised.  Its calls are followed the same way,
  to a bounded depth (``ProjectFacts.MAX_LIBRARY_DEPTH``).
* Bounded, deterministically.  A run may use the summaries of at most
  ``MAX_LIBRARY_BYTES_PER_RUN`` bytes of library source (each module counted
  once per run at its file size, whether its summaries are analysed now or
  read from the disk cache), and parses at most ``MAX_MODULES_PER_RUN``
  modules.  The budget is counted in work, not seconds, so the same command
  on the same tree gives the same findings run after run, on a busy machine
  or an idle one, with a cold or a warm library cache.  What the budget cuts
  off is not known (not reported), and the findings of such a run are not
  cached.
* Cached.  Library code does not change under a given distribution version, so
  summaries are stored per distribution name and version, shared by every
  project, under ``$ASYNCSENSE_LIBRARY_CACHE``, else
  ``$XDG_CACHE_HOME/asyncsense/libraries``, else ``~/.cache/asyncsense/libraries``.
  The cache stores each function's resolved call targets, not verdicts: the
  catalog and the user's config classify them at load time, so an
  ``allowed-calls`` entry takes effect without invalidating anything.  A
  change of the catalog's resolution data or of the Python version starts a
  new cache directory.

Never followed: names the catalog knows (blocking APIs, coroutines, offload
helpers), async-safe libraries (``catalog/async_safe.toml`` and profiles'
``async_safe``), the user's ``allowed-calls`` (a module, class or function
name covers everything inside), the project's own modules, C extensions
(nothing to read: mark them blocking with ``extra-blocking-calls``).  Packages
without install metadata (``*.dist-info``) are analysed but not cached.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .catalog import CATALOG_DIR, BlockingEntry, Catalog, default_catalog
from .config import Config
from .diagnostics import Span
from .index import ProjectIndex
from .parsing import decode_source, parse_module
from .semantics import ModuleModel, Resolver

log = logging.getLogger(__name__)

FORMAT = 1  # of the cache files; bump when what a summary records changes
MAX_MODULES_PER_RUN = 150
MAX_MODULE_BYTES = 1_000_000
# Library source whose summaries one run may use (about 100,000 lines): work
# units, not seconds, so findings never depend on the machine's load.
MAX_LIBRARY_BYTES_PER_RUN = 4_000_000
GUARDED_RUNNER = 1  # site flag: a loop runner under a no-running-loop guard

STDLIB_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__future__", "__main__"}


def default_cache_dir() -> Path:
    """Where library summaries live: shared by every project of the user."""
    explicit = os.environ.get("ASYNCSENSE_LIBRARY_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "asyncsense" / "libraries"


def is_library_name(name: str) -> bool:
    """Could ``name`` live in an installed third-party library (not the standard library)?"""
    top = name.split(".", 1)[0]
    return bool(top) and top not in STDLIB_MODULES


# ---------------------------------------------------------------------------
# Async-safe libraries and the user's marks


@dataclass(frozen=True)
class AsyncSafe:
    pattern: str  # a module or class name (covers what is inside), or an fnmatch pattern
    follow_constructors: bool = False

    def covers(self, name: str) -> bool:
        if name == self.pattern or name.startswith(self.pattern + "."):
            # Construction (``__init__`` and the private helpers it calls) is still followed.
            return not (self.follow_constructors and (name == self.pattern or name.rsplit(".", 1)[-1].startswith("_")))
        return any(c in self.pattern for c in "*?[") and fnmatch.fnmatchcase(name, self.pattern)


@functools.lru_cache(maxsize=1)
def async_safe_catalog() -> tuple[AsyncSafe, ...]:
    with open(CATALOG_DIR / "async_safe.toml", "rb") as handle:
        data = tomllib.load(handle)
    return tuple(
        AsyncSafe(name, bool(table.get("follow_constructors", False)))
        for table in data.get("async_safe", [])
        for name in table["names"]
    )


def config_blocking_entry(config: Config | None, name: str) -> BlockingEntry | None:
    """An ``extra-blocking-calls`` entry naming a module or class that contains ``name``.

    (Exact names are in the catalog already; this makes ``"serial"`` mark every
    call into pyserial, a C-backed library the analysis cannot read.)
    """
    if config is None:
        return None
    for extra in config.extra_blocking_calls:
        if name.startswith(extra.name + "."):
            return BlockingEntry(extra.name, extra.category, extra.replacement)
    return None


def _allowed(config: Config | None, name: str) -> bool:
    if config is None:
        return False
    return any(name == allowed or name.startswith(allowed + ".") for allowed in config.allowed_calls)


# ---------------------------------------------------------------------------
# Where libraries are: site-packages and their distributions


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    site: Path  # the sys.path entry it is installed in

    @property
    def cacheable(self) -> bool:
        return bool(self.version)


def library_paths(python: str | None, project_root: Path | None) -> list[Path]:
    """The site-packages directories of the user's interpreter (or of this one)."""
    return [
        path
        for path in source_paths(python, project_root)
        if {"site-packages", "dist-packages"} & set(path.parts)
    ]


class SitePackages:
    """Module files and install metadata of the library directories, read lazily."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self._distributions: dict[str, Distribution] | None = None
        self._tops: dict[str, Path | None] = {}

    def top_site(self, top: str) -> Path | None:
        """The directory a top-level module or package is installed in."""
        if top not in self._tops:
            self._tops[top] = next(
                (
                    site
                    for site in self.paths
                    if (site / top / "__init__.py").is_file() or (site / f"{top}.py").is_file()
                ),
                None,
            )
        return self._tops[top]

    def module_file(self, module: str) -> tuple[Path, bool] | None:
        """(file, is_package) of a dotted module name, or None (missing, namespace, C extension)."""
        parts = module.split(".")
        site = self.top_site(parts[0])
        if site is None:
            return None
        base = site.joinpath(*parts)
        package = base / "__init__.py"
        if package.is_file():
            return package, True
        plain = base.with_suffix(".py")
        if plain.is_file():
            return plain, False
        return None

    def distribution(self, top: str) -> Distribution | None:
        site = self.top_site(top)
        if site is None:
            return None
        if self._distributions is None:
            self._distributions = self._scan()
        found = self._distributions.get(top)
        if found is not None and found.site == site:
            return found
        return Distribution(f"{top}-unversioned", "", site)

    def _scan(self) -> dict[str, Distribution]:
        """Top-level name -> distribution, from ``*.dist-info`` (top_level.txt, else RECORD)."""
        mapping: dict[str, Distribution] = {}
        for site in self.paths:
            try:
                entries = sorted(os.scandir(site), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if not entry.name.endswith((".dist-info", ".egg-info")) or not entry.is_dir():
                    continue
                stem = entry.name.rsplit(".", 1)[0]
                name, _, version = stem.partition("-")
                if not version:
                    continue
                distribution = Distribution(name.lower().replace("-", "_"), version, site)
                for top in _top_levels(Path(entry.path)):
                    mapping.setdefault(top, distribution)
        return mapping


def _top_levels(info: Path) -> set[str]:
    tops: set[str] = set()
    try:
        listed = (info / "top_level.txt").read_text(encoding="utf-8")
        tops.update(line.strip().split("/")[0] for line in listed.splitlines() if line.strip())
        return tops
    except OSError:
        pass
    try:
        record = (info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return tops
    for line in record.splitlines():
        first = line.split(",", 1)[0].split("/", 1)[0]
        if not first or first.startswith(("..", "__pycache__")) or first.endswith((".dist-info", ".pth", ".data")):
            continue
        if first.endswith(".py"):
            tops.add(first[:-3])
        elif first.endswith((".so", ".pyd")):
            tops.add(first.split(".", 1)[0])  # a C extension module
        elif "." not in first:
            tops.add(first)
    return tops


# ---------------------------------------------------------------------------
# Summaries: raw (cached) and classified


@dataclass
class RawFunction:
    """What a library function calls, as resolved targets (the catalog classifies them later)."""

    file: str  # relative to the distribution's site directory
    coroutine: bool  # calling it creates a coroutine (or another awaitable)
    sites: list[tuple[str, int, int, int, int, int]] = field(default_factory=list)
    returns: str | None = None  # the qualified return annotation (the type of ``lib.login()``)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "coroutine": self.coroutine,
            "returns": self.returns,
            "sites": [list(site) for site in self.sites],
        }

    @classmethod
    def from_json(cls, data: dict) -> RawFunction:
        sites = [tuple(site) for site in data["sites"]]
        return cls(data["file"], bool(data["coroutine"]), sites, data.get("returns"))  # type: ignore[arg-type]


@dataclass
class _DistributionCache:
    distribution: Distribution
    names: dict[str, str | None] = field(default_factory=dict)  # asked name -> defining qualname
    functions: dict[str, RawFunction] = field(default_factory=dict)
    dirty: bool = False


class _OutOfBudget(Exception):
    pass


@dataclass
class LibraryStats:
    modules_parsed: int = 0
    functions_analysed: int = 0
    functions_from_cache: int = 0
    seconds: float = 0.0  # informative only: the budget is ``bytes_used``
    bytes_used: int = 0  # source size of the library modules whose summaries were used
    budget: int = MAX_LIBRARY_BYTES_PER_RUN
    exhausted: bool = False


class _Locator:
    """Finds the function a dotted name denotes in modules read on demand.

    Subclasses provide ``index`` (the declarations read so far),
    ``model_catalog`` and ``_load_module(name) -> bool``.
    """

    index: ProjectIndex
    model_catalog: Catalog

    def _load_module(self, module: str) -> bool:
        raise NotImplementedError

    def _followable(self, name: str) -> bool:
        """May a base class of this name be looked into?"""
        return is_library_name(name)

    def _locate(self, name: str, hops: int) -> str | None:
        """The qualified name of the function ``name`` denotes (a class: its ``__init__``)."""
        if hops > 8:
            return None
        index = self.index
        if name in index.functions:
            return name
        if name in index.classes:
            return self._member(name, "__init__", hops)
        parts = name.split(".")
        module = None
        for cut in range(len(parts) - 1, 0, -1):
            candidate = ".".join(parts[:cut])
            if candidate in index.modules or self._load_module(candidate):
                module = candidate
                break
        if module is None:
            return self._via_aliases(name, hops)
        rest = parts[len(module.split(".")) :]
        head = f"{module}.{rest[0]}"
        if head in index.functions:
            return head if len(rest) == 1 else None
        if head in index.classes:
            if len(rest) > 2:
                return None
            return self._member(head, rest[1] if len(rest) == 2 else "__init__", hops)
        value = index.modules[module].globals.get(rest[0])
        if value is not None and value.kind == "instance" and len(rest) == 1:
            value = None  # a module-level object is not a function
        if value is None or value.kind not in ("module", "function", "class", "ref", "instance"):
            return self._via_aliases(name, hops)
        moved = ".".join([value.name, *rest[1:]])
        if moved == name:
            return self._via_aliases(name, hops)  # canonicalised onto itself: try jedi's spelling
        return self._locate(moved, hops + 1)

    def _member(self, class_qualname: str, attr: str, hops: int) -> str | None:
        decl = self.index.classes[class_qualname]
        method = decl.methods.get(attr)
        if method is not None:
            return method if method in self.index.functions else None
        for base in decl.bases:
            if not self._followable(base):
                continue
            found = self._locate(f"{base}.{attr}", hops + 1)
            if found is not None:
                return found
        return None

    def _via_aliases(self, name: str, hops: int) -> str | None:
        """The catalog rewrites library spellings (``requests.sessions.Session`` -> ``requests.Session``): undo it."""
        for spelling, public in self.model_catalog.aliases.items():
            if spelling != public and (name == public or name.startswith(public + ".")):
                found = self._locate(spelling + name[len(public) :], hops + 1)
                if found is not None:
                    return found
        return None


class LibraryFollower(_Locator):
    """Summaries of installed library functions, on demand (see the module docstring)."""

    def __init__(
        self,
        catalog: Catalog,
        config: Config | None = None,
        *,
        python: str | None = None,
        project_root: Path | None = None,
        cache_dir: Path | None | bool = None,
        project_modules: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.catalog = catalog  # the project's (with the config): classifies call targets
        # Library code is modelled with the plain catalog: its summaries do not
        # depend on any project's config, so one cache serves every project.
        self.model_catalog = default_catalog()
        self.config = config
        self.python = python
        self.project_root = project_root.resolve() if project_root is not None else None
        # None: the default shared directory; False: no disk cache.
        self.cache_dir: Path | None = (
            None if cache_dir is False else default_cache_dir() if cache_dir is None or cache_dir is True else Path(cache_dir)
        )
        self.project_modules = project_modules
        self.extra_async_safe: tuple[str, ...] = ()  # from the active profiles
        self.stats = LibraryStats(budget=MAX_LIBRARY_BYTES_PER_RUN)
        self.index = ProjectIndex()  # declarations of the library modules read so far
        self._site: SitePackages | None = None
        self._models: dict[str, ModuleModel] = {}  # module name -> model
        self._resolvers: dict[str, Resolver] = {}
        self._scopes: dict[str, dict[str, list]] = {}  # module name -> function key -> call sites
        self._missing_modules: set[str] = set()
        self._caches: dict[str, _DistributionCache] = {}
        self._facts: dict[str, object] = {}  # defining qualname -> FunctionFacts
        self._modules_this_run = 0
        self._project_tops: set[str] | None = None
        self._charged: set[str] = set()  # files counted against this run's budget
        self._sizes: dict[str, int] = {}
        self.cutoffs = 0  # questions the budget cut short (their answers are not final)

    # -- runs -------------------------------------------------------------
    def begin(self, run_started: float | None = None) -> None:
        """A new check run: a fresh budget, and the last run's new summaries saved.

        (``run_started`` is accepted for callers of the time-based budget of old;
        the budget is counted in bytes of library source now.)"""
        self.save()
        self.stats = LibraryStats(budget=MAX_LIBRARY_BYTES_PER_RUN)
        self._modules_this_run = 0
        self._charged = set()
        self._project_tops = None

    @property
    def site(self) -> SitePackages:
        if self._site is None:
            self._site = SitePackages(library_paths(self.python, self.project_root))
        return self._site

    @functools.cached_property
    def engine_key(self) -> str:
        """What a summary depends on besides the library: resolution data and the Python version."""
        catalog = self.model_catalog
        material = json.dumps(
            [
                FORMAT,
                list(sys.version_info[:2]),
                sorted(catalog.aliases.items()),
                sorted(catalog.returns.items()),
                sorted((k, list(v)) for k, v in catalog.bases.items()),
                sorted(catalog.blocking),
                sorted(catalog.coroutines),
                sorted(catalog.offload.items()),
                sorted(catalog.loop_callbacks.items()),
            ]
        )
        return hashlib.blake2b(material.encode(), digest_size=8).hexdigest()

    # -- the question -----------------------------------------------------
    def wants(self, name: str) -> bool:
        """Is ``name`` a library name worth following?"""
        if not is_library_name(name):
            return False
        catalog = self.catalog
        if (
            catalog.blocking_entry(name) is not None
            or name in catalog.coroutines
            or name in catalog.offload
            or name in catalog.loop_callbacks
        ):
            return False
        if _allowed(self.config, name) or _allowed(self.config, catalog.canonical(name)):
            return False
        if self._async_safe(name):
            return False
        return name.split(".", 1)[0] not in self._tops_of_project()

    def _async_safe(self, name: str) -> bool:
        if any(entry.covers(name) for entry in async_safe_catalog()):
            return True
        return any(AsyncSafe(pattern).covers(name) for pattern in self.extra_async_safe)

    def _tops_of_project(self) -> set[str]:
        if self._project_tops is None:
            names = self.project_modules() if self.project_modules is not None else ()
            self._project_tops = {name.split(".", 1)[0] for name in names}
        return self._project_tops

    def facts_for(self, name: str):
        """The summary (``FunctionFacts``) of the library function ``name`` denotes, or None."""
        if not self.wants(name):
            return None
        started = time.perf_counter()
        try:
            real = self._defining_name(name)
            if real is None or not self.wants(real):
                return None
            return self._facts_of(real)
        except _OutOfBudget:
            self.stats.exhausted = True
            self.cutoffs += 1
            return None
        except (RecursionError, ValueError, SyntaxError, OSError, UnicodeError, KeyError) as exc:
            log.debug("library analysis of %s failed: %s", name, exc)
            return None
        finally:
            self.stats.seconds += time.perf_counter() - started

    def returns_of(self, name: str) -> str | None:
        """The declared return type of the library function ``name`` (``-> Api``), if any."""
        facts = self.facts_for(name)
        return facts.returns if facts is not None else None

    def has_budget(self) -> bool:
        """Is there budget left in this run?"""
        return not self.stats.exhausted and self._modules_this_run < MAX_MODULES_PER_RUN

    def _check_budget(self) -> None:
        if self._modules_this_run >= MAX_MODULES_PER_RUN:
            raise _OutOfBudget

    def _charge(self, path: str) -> None:
        """Count a library module against this run's budget (once per run, cached or not)."""
        if path in self._charged:
            return
        size = self._sizes.get(path)
        if size is None:
            try:
                size = os.stat(path).st_size
            except OSError:
                size = 0
            self._sizes[path] = size
        if self.stats.bytes_used + size > self.stats.budget:
            raise _OutOfBudget
        self._charged.add(path)
        self.stats.bytes_used += size

    # -- names -> definitions --------------------------------------------
    def _cache_for(self, name: str) -> _DistributionCache | None:
        top = name.split(".", 1)[0]
        distribution = self.site.distribution(top)
        if distribution is None:
            return None
        key = f"{distribution.name}-{distribution.version}@{distribution.site}"
        cache = self._caches.get(key)
        if cache is None:
            cache = self._read_cache(distribution)
            self._caches[key] = cache
        return cache

    def _defining_name(self, name: str) -> str | None:
        cache = self._cache_for(name)
        if cache is None:
            return None  # not installed
        if name in cache.names:
            return cache.names[name]
        real = self._locate(name, 0)
        cache.names[name] = real
        cache.dirty = True
        return real

    def _load_module(self, module: str) -> bool:
        if module in self.index.modules:
            return True
        if module in self._missing_modules or not is_library_name(module):
            return False
        if module.split(".", 1)[0] in self._tops_of_project():
            return False
        found = self.site.module_file(module)
        if found is None:
            self._missing_modules.add(module)
            return False
        path, is_package = found
        if path.stat().st_size > MAX_MODULE_BYTES:
            self._missing_modules.add(module)
            return False
        self._check_budget()
        text, _ = decode_source(path.read_bytes())
        parsed = parse_module(text, str(path))
        model = ModuleModel(parsed, str(path), module, is_package, self.model_catalog)
        self._models[module] = model
        self.index.add(model.decl)
        self._modules_this_run += 1
        self.stats.modules_parsed += 1
        return True

    # -- summaries --------------------------------------------------------
    def _facts_of(self, real: str):
        facts = self._facts.get(real)
        if facts is not None:
            return facts
        cache = self._cache_for(real)
        if cache is None:
            return None
        raw = cache.functions.get(real)
        if raw is not None:
            self._charge(str(cache.distribution.site / raw.file))
            self.stats.functions_from_cache += 1
        else:
            decl = self._declaration(real)
            if decl is not None and decl.path:
                self._charge(decl.path)
            raw = self._analyse(real)
            if raw is None:
                return None
            cache.functions[real] = raw
            cache.dirty = True
            self.stats.functions_analysed += 1
        facts = self._classify(real, raw, cache.distribution.site)
        self._facts[real] = facts
        return facts

    def _declaration(self, real: str):
        """The declaration of a located function, reading its module if this run has not yet
        (its location may come from the disk cache of an earlier run)."""
        decl = self.index.functions.get(real)
        if decl is not None:
            return decl
        parts = real.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module in self.index.modules or self._load_module(module):
                return self.index.functions.get(real)
        return None

    def _analyse(self, real: str) -> RawFunction | None:
        from .summary import LOOP_RUNNERS, function_key, is_guarded_runner

        decl = self.index.functions.get(real)
        if decl is None:
            return None
        module = decl.path and self._module_of(decl.path)
        if module is None:
            return None
        model = self._models[module]
        resolver = self._resolvers.get(module)
        if resolver is None:
            resolver = self._resolvers[module] = Resolver(model, self.index, None)
        scopes = self._scopes.get(module)
        if scopes is None:
            scopes = self._scopes[module] = {}
            for site in model.calls:
                if not site.awaited:
                    scopes.setdefault(function_key(model, site.scope), []).append(site)
        distribution = self.site.distribution(module.split(".", 1)[0])
        site_dir = distribution.site if distribution is not None else Path(decl.path).parent
        raw = RawFunction(
            os.path.relpath(decl.path, site_dir),
            bool(decl.creates_coroutine or decl.is_async),
            returns=decl.returns if decl.returns and not decl.returns_awaitable else None,
        )
        catalog = self.model_catalog
        index = model.parsed.index
        for site in scopes.get(real, ()):
            callee = resolver.callee(site.node, site.scope)
            if callee.kind == "class" and callee.name in self.index.classes:
                target: str | None = callee.name  # located to its __init__ when followed
            else:
                target = resolver.target_name(callee)
            if target is None:
                continue
            flags = 0
            if target in LOOP_RUNNERS:
                if is_guarded_runner(model, site.node):
                    flags |= GUARDED_RUNNER
            elif target.startswith("builtins.") and catalog.blocking_entry(target) is None:
                continue  # len(), isinstance(), ...: never blocking, never followed
            node = site.node
            end_line = node.end_lineno or node.lineno
            raw.sites.append(
                (
                    target,
                    node.lineno,
                    index.char_col(node.lineno, node.col_offset),
                    end_line,
                    index.char_col(end_line, node.end_col_offset or 0),
                    flags,
                )
            )
        return raw

    def _module_of(self, path: str) -> str | None:
        for name, model in self._models.items():
            if model.path == path:
                return name
        return None

    def _classify(self, real: str, raw: RawFunction, site_dir: Path):
        from .summary import LOOP_RUNNERS, FunctionFacts, Site

        path = str(site_dir / raw.file)
        facts = FunctionFacts(real, raw.coroutine, path)
        facts.refined = True
        facts.returns = raw.returns
        for target, line, column, end_line, end_column, flags in raw.sites:
            span = Span.of(line, column, end_line, end_column)
            entry = self.catalog.blocking_entry(target) or config_blocking_entry(self.config, target)
            if entry is not None:
                facts.blocking.append(Site(entry.name, path, span, entry.category))
            elif target in LOOP_RUNNERS:
                if not flags & GUARDED_RUNNER:
                    facts.runs_loop.append(Site(target, path, span))
            else:
                facts.library_calls.append(Site(target, path, span))
        return facts

    # -- the disk cache ---------------------------------------------------
    def state_key(self) -> tuple:
        """What findings owe to library analysis, for caches of findings.

        Library summaries depend only on the installed libraries (the project
        cache's salt covers the environment) and on this engine; the budget
        is counted in work, so whether summaries came from the disk cache
        does not change them.  Findings of a run that ran out of budget are
        not cached at all (``ProjectFacts.final``).
        """
        return ("libraries", self.engine_key, MAX_LIBRARY_BYTES_PER_RUN, MAX_MODULES_PER_RUN)

    def _cache_file(self, distribution: Distribution) -> Path | None:
        if self.cache_dir is None or not distribution.cacheable:
            return None
        safe = f"{distribution.name}-{distribution.version}".replace(os.sep, "_")
        return self.cache_dir / self.engine_key / f"{safe}.json"

    def _read_cache(self, distribution: Distribution) -> _DistributionCache:
        cache = _DistributionCache(distribution)
        path = self._cache_file(distribution)
        if path is None or not path.is_file():
            return cache
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return cache
            cache.names = dict(data.get("names", {}))
            cache.functions = {k: RawFunction.from_json(v) for k, v in data.get("functions", {}).items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.debug("ignoring unreadable library cache %s: %s", path, exc)
            return _DistributionCache(distribution)
        return cache

    def save(self) -> None:
        """Write the summaries of this run that are new (atomically, per distribution)."""
        for cache in self._caches.values():
            if not cache.dirty:
                continue
            cache.dirty = False
            path = self._cache_file(cache.distribution)
            if path is None:
                continue
            data = {
                "format": FORMAT,
                "distribution": cache.distribution.name,
                "version": cache.distribution.version,
                "names": cache.names,
                "functions": {k: v.to_json() for k, v in sorted(cache.functions.items())},
            }
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(data, stream, separators=(",", ":"))
                os.replace(temporary, path)
            except OSError as exc:
                log.warning("could not write the library cache %s: %s", path, exc)



# ---------------------------------------------------------------------------
# Definitions anywhere on the import path: is a name an ``async def``?


def source_paths(python: str | None, project_root: Path | None) -> list[Path]:
    """The import path of the user's interpreter (standard library included), minus the project."""
    entries: Iterable[str] = ()
    if python:
        from .inference import interpreter_sys_path

        entries = interpreter_sys_path(python)
    if not entries:
        entries = sys.path
    found: list[Path] = []
    for entry in entries:
        if not entry:
            continue
        path = Path(entry)
        if not path.is_dir():
            continue  # zip archives, missing entries
        resolved = path.resolve()
        if project_root is not None and (resolved == project_root or project_root in resolved.parents):
            continue
        if resolved not in found:
            found.append(resolved)
    return found


class DefinitionFinder(_Locator):
    """Which function a dotted name denotes, read from source (``.py``, else a ``.pyi`` stub)
    anywhere on the import path: the standard library too, unlike ``LibraryFollower``.

    Answers ``is_coroutine_function`` for library names without jedi: reading
    one module with the cheap model costs milliseconds where a jedi query
    costs tenths of seconds.  At most ``MAX_MODULES`` modules are read in the
    life of a finder (a count, so answers never depend on timing).
    """

    MAX_MODULES = 300

    def __init__(
        self, python: str | None = None, project_root: Path | None = None, stub_roots: Iterable[Path] = ()
    ) -> None:
        self.python = python
        self.project_root = project_root.resolve() if project_root is not None else None
        # Folders of stub distributions (jedi's bundled typeshed ``stubs/*``): read
        # after the import path, for packages that are not installed.
        self.stub_roots = list(stub_roots)
        self._stub_tops: dict[str, list[Path]] | None = None
        self.model_catalog = default_catalog()
        self.index = ProjectIndex()
        self._paths: list[Path] | None = None
        self._missing: set[str] = set()
        self._answers: dict[str, bool | None] = {}
        self._stars: dict[str, tuple[str, ...]] = {}  # module -> modules it star-imports
        self.modules_read = 0

    def _followable(self, name: str) -> bool:
        return bool(name) and name.split(".", 1)[0] != "builtins"

    @property
    def paths(self) -> list[Path]:
        if self._paths is None:
            self._paths = source_paths(self.python, self.project_root)
        return self._paths

    def _roots_for(self, top: str) -> list[Path]:
        if self._stub_tops is None:
            self._stub_tops = {}
            for root in self.stub_roots:
                try:
                    names = sorted(os.listdir(root))
                except OSError:
                    continue
                for name in names:
                    stem = name[:-4] if name.endswith(".pyi") else name
                    self._stub_tops.setdefault(stem, []).append(root)
        return self.paths + self._stub_tops.get(top, [])

    def _module_file(self, module: str) -> tuple[Path, bool] | None:
        parts = module.split(".")
        roots = self._roots_for(parts[0])
        for suffix in (".py", ".pyi"):
            for site in roots:
                base = site.joinpath(*parts)
                package = base / f"__init__{suffix}"
                if package.is_file():
                    return package, True
                plain = base.with_suffix(suffix)
                if plain.is_file():
                    return plain, False
        return None

    def _load_module(self, module: str) -> bool:
        if module in self.index.modules:
            return True
        if module in self._missing or self.modules_read >= self.MAX_MODULES:
            return False
        if not all(part.isidentifier() for part in module.split(".")):
            self._missing.add(module)
            return False
        found = self._module_file(module)
        if found is None or found[0].stat().st_size > MAX_MODULE_BYTES:
            self._missing.add(module)
            return False
        path, is_package = found
        self.modules_read += 1
        try:
            text, _ = decode_source(path.read_bytes())
            model = ModuleModel(parse_module(text, str(path)), str(path), module, is_package, self.model_catalog)
        except (OSError, ValueError, SyntaxError, RecursionError, UnicodeError) as exc:
            log.debug("could not read %s: %s", path, exc)
            self._missing.add(module)
            return False
        self.index.add(model.decl)
        self._stars[module] = _star_sources(model.tree, module, is_package)
        return True

    def _via_aliases(self, name: str, hops: int) -> str | None:
        """``asyncio.Future`` lives in ``asyncio.futures``: follow ``from .futures import *``
        (the standard library re-exports that way), then the catalog's spellings, once."""
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module not in self.index.modules:
                continue
            for source in self._stars.get(module, ()):
                found = self._locate(".".join([source, *parts[cut:]]), hops + 1)
                if found is not None:
                    return found
            break
        if hops:
            return None  # rewriting a rewritten name again only makes up names
        return super()._via_aliases(name, hops)

    def is_coroutine_function(self, name: str) -> bool | None:
        """Whether ``name`` is an ``async def`` (not an async generator); None: not found."""
        if name in self._answers:
            return self._answers[name]
        answer: bool | None = None
        try:
            real = self._locate(name, 0)
        except (RecursionError, ValueError, OSError) as exc:
            log.debug("could not locate %s: %s", name, exc)
            real = None
        decl = self.index.functions.get(real) if real is not None else None
        if decl is not None:
            answer = decl.is_async and not decl.is_generator
        self._answers[name] = answer
        return answer


def _star_sources(tree: ast.Module, module: str, is_package: bool) -> tuple[str, ...]:
    """The modules ``module`` re-exports with ``from X import *`` at its top level."""
    sources = []
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and any(alias.name == "*" for alias in statement.names):
            if statement.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                if statement.level > 1:
                    package = package[: len(package) - (statement.level - 1)]
                base = ".".join(package)
                source = f"{base}.{statement.module}" if statement.module else base
            else:
                source = statement.module or ""
            if source:
                sources.append(source)
    return tuple(sources)
