"""Prints the requirements that the distributions in a --target folder need on an
older Python but that pip left out (pip evaluates environment markers such as
`python_version < "3.11"` against the Python running pip, even with
--python-version). One requirement per line, markers stripped.

Usage: python missing_requirements.py TARGET_DIR PYTHON_VERSION
"""

import email.parser
import pathlib
import sys

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pip always vendors it
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name


def main() -> int:
    target = pathlib.Path(sys.argv[1])
    version = sys.argv[2]
    env = {"python_version": version, "python_full_version": f"{version}.0", "extra": ""}
    installed = set()
    requires = []
    for dist in target.glob("*.dist-info"):
        meta = email.parser.Parser().parsestr((dist / "METADATA").read_text(encoding="utf-8"))
        installed.add(canonicalize_name(meta["Name"]))
        requires.extend(meta.get_all("Requires-Dist") or [])
    missing = {}
    for line in requires:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if name not in installed:
            req.marker = None
            missing[name] = str(req)
    for spec in sorted(missing.values()):
        print(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
