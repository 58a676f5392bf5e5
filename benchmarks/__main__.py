"""Run every benchmark and print one table: ``make bench`` or ``python -m benchmarks [--quick]``.

The table (and its JSON, with the load benchmark's queue-depth series) is written to
``benchmarks/results/latest.{md,json}``. A benchmark that fails is reported and the others
still run; the exit status is then 1. Servers are killed on the way out, also on Ctrl-C or
SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks import (
    big_notebook,
    catalog,
    celery,
    cli_startup,
    client_setup,
    dag_import,
    listing,
    load,
    memory,
    operator_overhead,
    save_latency,
    schedules_parse,
    upload_checksum,
)
from benchmarks.report import Row, load_average, print_rows, summarize

Benchmark = Callable[[bool], "list[Row] | tuple[list[Row], dict[str, Any]]"]

#: name -> run(quick): the full run stays under ~15 minutes on a 2-core machine.
BENCHMARKS: dict[str, Benchmark] = {
    "save_latency": lambda quick: save_latency.run(5 if quick else 20, [100_000, 1_000_000, 10_000_000]),
    "load": lambda quick: load.run(notebooks=8, seconds=3.0 if quick else 8.0),
    "memory": lambda quick: memory.run(rounds=1 if quick else 3),
    "operator": lambda quick: operator_overhead.run(rounds=2 if quick else 7),
    # Pages of 100 cost ~35 s a round with 10,000 versions on SeaweedFS: quick runs only.
    "listing": lambda quick: listing.run(
        rounds=2 if quick else 5,
        versions=2_000 if quick else 10_000,
        page_sizes=(1000, 100) if quick else (1000,),
    ),
    "dag_import": lambda quick: dag_import.run(rounds=2 if quick else 8),
    "schedules_parse": lambda quick: schedules_parse.run(schedules=1000, rounds=2 if quick else 5),
    "cli": lambda quick: cli_startup.run(rounds=3 if quick else 10),
    "catalog": lambda quick: catalog.run(rounds=2 if quick else 5, notebooks=500 if quick else 2_000),
    # Starts PostgreSQL, Redis and Airflow on the CeleryExecutor: ~5 minutes in full.
    "celery": lambda quick: celery.run(runs=4 if quick else 8, rounds=1 if quick else 2),
    "big_notebook": lambda quick: big_notebook.run(
        rounds=1 if quick else 2, size=100_000_000 if quick else 500_000_000
    ),
    "client_setup": lambda quick: client_setup.run(rounds=3 if quick else 10),
    "upload_checksum": lambda quick: upload_checksum.run(rounds=10 if quick else 30),
}


def _terminate(signum: int, frame: Any) -> None:
    # A SystemExit unwinds the stack, so every benchmark's `finally` kills its servers.
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes: a smoke run")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    rows: list[Row] = []
    extras: dict[str, Any] = {}
    failed: list[str] = []
    load_before = load_average()
    started = time.monotonic()
    for name in names:
        print(f"==> {name}", flush=True)
        began = time.monotonic()
        try:
            outcome = BENCHMARKS[name](args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            rows.append(summarize(f"{name}: FAILED", [0.0], None, "see the traceback above", unit=("", 1.0)))
            continue
        found, more = outcome if isinstance(outcome, tuple) else (outcome, {})
        rows += found
        extras.update(more)
        print(f"    {name} took {time.monotonic() - began:.0f} s", flush=True)
    command = "make bench" if not args.quick else "python -m benchmarks --quick"
    if args.only:
        command += f" --only {args.only}"
    print()
    print_rows(
        rows,
        header={
            "Command": command,
            "Load average (1/5/15 min) before / after": f"{load_before}  /  {load_average()}",
            "Took": f"{(time.monotonic() - started) / 60:.1f} min",
        },
        extras=extras,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
