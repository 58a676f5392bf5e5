"""Import time of each example DAG file in ``dags/``, as Airflow's DAG processor pays it.

Each measurement is a fresh Python process (nothing cached in ``sys.modules``) that first
imports ``airflow.sdk`` and resolves ``airflow.sdk.DAG`` (the baseline: what every DAG file
needs, timed in the same process), then executes the DAG file with ``runpy``. The figure is
the second part: what the file itself, and bookstore's operator it imports, add. Target:
at most 0.3 s per file.

Run: ``.venv/bin/python -m benchmarks.dag_import [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.report import Row, Target, print_rows, summarize

#: The issue's target for parsing one DAG file.
TARGET = Target("p50", 300.0)

DAGS = Path(__file__).resolve().parent.parent / "dags"

_CHILD = """\
import json, runpy, sys, time
started = time.perf_counter()
import airflow.sdk
airflow.sdk.DAG  # resolve the lazily imported name, as every DAG file does
sdk = time.perf_counter()
runpy.run_path(sys.argv[1], run_name="bench_dag")
done = time.perf_counter()
heavy = [m for m in ("boto3", "papermill", "nbclient", "jupyter_client") if m in sys.modules]
print(json.dumps({"sdk": sdk - started, "file": done - sdk, "heavy": heavy}))
"""


def time_import(dag_file: Path, env: dict[str, str]) -> dict[str, object]:
    """Import ``dag_file`` in a fresh interpreter; return the child's timings."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(dag_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"importing {dag_file.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(rounds: int = 10) -> list[Row]:
    """Import every file in ``dags/`` ``rounds`` times (after one warm-up of the disk cache)."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bookstore-bench-airflow-") as home:
        # Airflow writes airflow.cfg into its home on first import: keep that out of ~/airflow.
        env = dict(
            os.environ,
            AIRFLOW_HOME=home,
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        )
        for dag_file in sorted(DAGS.glob("*.py")):
            sdk_times: list[float] = []
            file_times: list[float] = []
            heavy: set[str] = set()
            for i in range(rounds + 1):
                timings = time_import(dag_file, env)
                heavy.update(timings["heavy"])  # type: ignore[arg-type]
                if i:
                    sdk_times.append(float(timings["sdk"]))  # type: ignore[arg-type]
                    file_times.append(float(timings["file"]))  # type: ignore[arg-type]
            rows.append(
                summarize(
                    f"import dags/{dag_file.name}",
                    file_times,
                    sdk_times,
                    "fresh process: the DAG file after airflow.sdk vs `import airflow.sdk` itself"
                    + (f"; imports {', '.join(sorted(heavy))}" if heavy else ""),
                    target=TARGET,
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print_rows(run(args.rounds))


if __name__ == "__main__":
    main()
