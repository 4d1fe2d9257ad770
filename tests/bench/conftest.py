"""The benchmark scripts are run by hand (see docs/benchmarks.md), never by pytest."""

collect_ignore_glob = ["*"]
