"""Summaries and tables shared by the benchmarks: medians and tails next to their baseline."""

from __future__ import annotations

import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    name: str
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    baseline_p50_ms: float | None
    ratio_p50: float | None
    note: str


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarize(name: str, values: list[float], baseline: list[float] | None, note: str) -> Row:
    p50 = statistics.median(values)
    base = statistics.median(baseline) if baseline else None
    return Row(
        name=name,
        n=len(values),
        p50_ms=round(p50 * 1000, 2),
        p95_ms=round(percentile(values, 95) * 1000, 2),
        p99_ms=round(percentile(values, 99) * 1000, 2),
        baseline_p50_ms=round(base * 1000, 2) if base is not None else None,
        ratio_p50=round(p50 / base, 3) if base else None,
        note=note,
    )


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def markdown(rows: list[Row]) -> str:
    lines = [
        f"Machine: {machine()}",
        "",
        "| measurement | n | p50 ms | p95 ms | p99 ms | baseline p50 ms | ratio | what |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        base = "" if r.baseline_p50_ms is None else f"{r.baseline_p50_ms}"
        ratio = "" if r.ratio_p50 is None else f"{r.ratio_p50}"
        lines.append(
            f"| {r.name} | {r.n} | {r.p50_ms} | {r.p95_ms} | {r.p99_ms} | {base} | {ratio} | {r.note} |"
        )
    return "\n".join(lines)


def print_rows(rows: list[Row], out_dir: str | os.PathLike[str] = "benchmarks/results") -> None:
    text = markdown(rows)
    print(text)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.md").write_text(text + "\n")
    (folder / "latest.json").write_text(
        json.dumps({"machine": machine(), "rows": [asdict(r) for r in rows]}, indent=2) + "\n"
    )
