"""Benchmarks: `python -m bench [NAME ...]` (or `make bench`).

Each bench/<name>.py has `main() -> dict` that measures its feature together with a
baseline in the same run and returns figures (ratios to the baseline, throughput).
Timings are never asserted in tests; they are measured here and reported in
docs/benchmarks.md.
"""
