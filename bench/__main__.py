"""Run the benchmarks named on the command line (all by default) and print their figures."""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

import bench


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__)
                  if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; have: {', '.join(available())}", file=sys.stderr)
        return 2
    out_dir = Path(".zhicheng/bench")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        started = time.perf_counter()
        figures = importlib.import_module(f"bench.{name}").main()
        figures["bench_wall_seconds"] = round(time.perf_counter() - started, 2)
        (out_dir / f"{name}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        print(f"== {name}")
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
