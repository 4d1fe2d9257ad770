"""The catalog: what the engine knows about library APIs, loaded from plain data.

``catalog/blocking.toml`` lists blocking calls; ``catalog/names.toml`` holds the
aliases that map jedi's and submodules' spellings to public names, the return
types of common factories, library coroutine functions, offload helpers and
loop-callback registrars.  Users extend and silence entries from config.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .config import Config

CATALOG_DIR = Path(__file__).parent / "catalog"


@dataclass(frozen=True)
class BlockingEntry:
    name: str  # canonical qualified name, e.g. "requests.Session.get"
    category: str
    replacement: str | None = None
    fix: str = "to-thread"  # or "asyncio-sleep"


@dataclass
class Catalog:
    blocking: dict[str, BlockingEntry] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)
    # What iterating a call's result gives (``for m in pattern.finditer(s)``: re.Match).
    elements: dict[str, str] = field(default_factory=dict)
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    coroutines: frozenset[str] = frozenset()
    offload: dict[str, int] = field(default_factory=dict)
    loop_callbacks: dict[str, int] = field(default_factory=dict)
    # name -> {"close": [...], "with": bool, "element": int}, see names.toml
    async_resources: dict[str, dict] = field(default_factory=dict)
    # Memo of canonical(): asked for every resolved name, tens of thousands a file.
    _canonical: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def canonical(self, name: str) -> str:
        """Rewrite the longest aliased prefix of a dotted name to its public spelling."""
        cached = self._canonical.get(name)
        if cached is None:
            cached = self._canonical[name] = self._rewrite(name)
        return cached

    def _rewrite(self, name: str) -> str:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            target = self.aliases.get(prefix)
            if target is not None and target != prefix:
                return ".".join([target, *parts[cut:]])
        return name

    def blocking_entry(self, name: str) -> BlockingEntry | None:
        return self.blocking.get(name) or self.blocking.get(self.canonical(name))

    @functools.cached_property
    def library_modules(self) -> frozenset[str]:
        """Top-level modules the catalog knows (``asyncio``, ``requests`` ...)."""
        names = [*self.blocking, *self.coroutines, *self.returns, *self.offload, *self.loop_callbacks]
        names.extend(self.async_resources)
        return frozenset(name.split(".", 1)[0] for name in names) - {"builtins"}

    @functools.cached_property
    def method_names(self) -> frozenset[str]:
        """Names of catalog *methods*: a call so named on an untyped receiver is worth a jedi query.

        Module functions (``requests.get``) are found through the import table,
        so their names alone never justify inference.
        """
        classes = set(self.returns.values()) | set(self.bases)
        names = set()
        for name in [*self.blocking, *self.coroutines, *self.offload, *self.loop_callbacks]:
            owner, _, method = name.rpartition(".")
            if owner and (owner.rsplit(".", 1)[-1][:1].isupper() or owner in classes):
                names.add(method)
        return frozenset(names)

    def with_config(self, config: Config) -> Catalog:
        """A copy with the user's extra blocking calls added and allowed calls removed."""
        blocking = dict(self.blocking)
        for extra in config.extra_blocking_calls:
            blocking[extra.name] = BlockingEntry(extra.name, extra.category, extra.replacement)
        for allowed in config.allowed_calls:
            blocking.pop(allowed, None)
            blocking.pop(self.canonical(allowed), None)
        return Catalog(
            blocking=blocking,
            aliases=self.aliases,
            returns=self.returns,
            elements=self.elements,
            bases=self.bases,
            coroutines=self.coroutines,
            offload=self.offload,
            loop_callbacks=self.loop_callbacks,
            async_resources=self.async_resources,
        )


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    with open(CATALOG_DIR / "blocking.toml", "rb") as handle:
        blocking_data = tomllib.load(handle)
    with open(CATALOG_DIR / "names.toml", "rb") as handle:
        names = tomllib.load(handle)
    blocking: dict[str, BlockingEntry] = {}
    for table in blocking_data["blocking"]:
        prefix = table.get("in")
        for name in table["names"]:
            qualified = f"{prefix}.{name}" if prefix else name
            blocking[qualified] = BlockingEntry(
                qualified, table["category"], table.get("replacement"), table.get("fix", "to-thread")
            )
    return Catalog(
        blocking=blocking,
        aliases=dict(names.get("aliases", {})),
        returns=dict(names.get("returns", {})),
        elements=dict(names.get("elements", {})),
        bases={k: tuple(v) for k, v in names.get("bases", {}).items()},
        coroutines=frozenset(names.get("coroutines", {}).get("names", [])),
        offload=dict(names.get("offload", {})),
        loop_callbacks=dict(names.get("loop_callbacks", {})),
        async_resources=dict(names.get("async_resources", {})),
    )
