"""`make bench`: run every benchmark on SQLite (and PostgreSQL when reachable), print a table."""

from __future__ import annotations

import asyncio
import os
import sys

os.environ.setdefault("HOINGHI_SECRET_KEY", "bench-secret-key-" + "x" * 40)
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

from bench import cases, sms_cases, web_load  # noqa: E402
from bench.databases import bench_database, postgres_reachable  # noqa: E402


async def main() -> int:
    kinds = ["sqlite"] + (["postgres"] if postgres_reachable() else [])
    if os.environ.get("BENCH_DATABASES"):  # e.g. BENCH_DATABASES=postgres: one database only
        kinds = [kind for kind in kinds if kind in os.environ["BENCH_DATABASES"].split(",")]
    only = set(sys.argv[1:])
    results = []
    for case in [*cases.ALL, *sms_cases.ALL, *web_load.ALL]:
        if only and case.__name__ not in only:
            continue
        for kind in kinds:
            async with bench_database(kind) as _engine:
                outcome = await case()
            title = case.__doc__.strip().splitlines()[0]
            # a case measures one figure, or several (one per target) each with its own title
            for figure in outcome if isinstance(outcome, list) else [outcome]:
                results.append((f"{title}: {figure['title']}" if "title" in figure else title, kind, figure))
                print(f"  {results[-1][0]:<55} {kind:<9} {figure['measured']:>12}  (target {figure['target']})", flush=True)
    print()
    print(f"{'benchmark':<55} {'database':<9} {'measured':>12}  target   ok")
    print("-" * 92)
    failed = 0
    for title, kind, figure in results:
        ok = figure["ok"]
        failed += not ok
        print(f"{title:<55} {kind:<9} {figure['measured']:>12}  {figure['target']:<8} {'yes' if ok else 'NO'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
