"""Dev-only: the demo's driver, staff and report, the Prefect UI over its runs, and the
sample generators of tests and benchmarks. No product code imports this package
(the import contracts of pyproject.toml)."""
