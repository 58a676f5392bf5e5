"""Summaries and tables shared by the benchmarks: medians and tails next to their baseline.

Every measurement becomes one :class:`Row`: its median, p95 and p99 in a unit (ms, MB,
saves/s, ...), the median of the baseline measured in the same run, their ratio, and the
target it is held to (with whether it was met).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Unit names and what one value in seconds (or bytes) is multiplied by to get them.
SECONDS = ("ms", 1000.0)
MEGABYTES = ("MB", 1e-6)


@dataclass(frozen=True)
class Target:
    """A goal for one row.

    ``what`` is ``p50``, ``p95`` or ``p99`` (the figure itself, in the row's unit), ``ratio``
    (p50 / baseline p50) or ``delta`` (p50 - baseline p50). ``at_most`` says whether the
    figure must stay at or below ``limit`` (latency, memory) or reach at least it (rates).
    """

    what: str
    limit: float
    at_most: bool = True

    def describe(self, unit: str) -> str:
        sign = "<=" if self.at_most else ">="
        if self.what == "ratio":
            return f"ratio {sign} {self.limit:g}"
        if self.what == "delta":
            return f"p50 - baseline {sign} {self.limit:g} {unit}"
        return f"{self.what} {sign} {self.limit:g} {unit}"

    def met(self, p50: float, p95: float, p99: float, baseline: float | None) -> bool | None:
        if self.what == "ratio":
            value = p50 / baseline if baseline else None
        elif self.what == "delta":
            value = p50 - baseline if baseline is not None else None
        else:
            value = {"p50": p50, "p95": p95, "p99": p99}[self.what]
        if value is None:
            return None
        return value <= self.limit if self.at_most else value >= self.limit


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    unit: str
    n: int
    p50: float
    p95: float
    p99: float
    baseline_p50: float | None
    ratio_p50: float | None
    target: str | None
    met: bool | None
    note: str


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (p99 of fewer than 100 values is near the max)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _round(value: float) -> float:
    """Three significant digits at least, two decimals at most past the point when large."""
    if value == 0 or abs(value) >= 100:
        return round(value, 1)
    if abs(value) >= 1:
        return round(value, 2)
    return float(f"{value:.3g}")


def summarize(
    name: str,
    values: list[float],
    baseline: list[float] | None,
    note: str,
    *,
    unit: tuple[str, float] = SECONDS,
    target: Target | None = None,
) -> Row:
    """Summarise ``values`` (and ``baseline``, same unit) into a :class:`Row`.

    ``unit`` is the unit's name and the factor from the values to it: the default turns
    seconds into ms, :data:`MEGABYTES` turns bytes into MB, ``("saves/s", 1.0)`` keeps them.
    """
    unit_name, scale = unit
    p50 = statistics.median(values) * scale
    p95 = percentile(values, 95) * scale
    p99 = percentile(values, 99) * scale
    base = statistics.median(baseline) * scale if baseline else None
    return Row(
        name=name,
        unit=unit_name,
        n=len(values),
        p50=_round(p50),
        p95=_round(p95),
        p99=_round(p99),
        baseline_p50=_round(base) if base is not None else None,
        ratio_p50=round(p50 / base, 3) if base else None,
        target=target.describe(unit_name) if target else None,
        met=target.met(p50, p95, p99, base) if target else None,
        note=note,
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    return "unknown RAM"


def machine() -> str:
    """The machine, as the results table notes it."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({_cpu_model()}), {_memory_gb()}, "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def load_average() -> str:
    """The 1/5/15-minute load averages, to tell a quiet machine from a busy one."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    return str(value)


def markdown(rows: list[Row], header: Mapping[str, str] | None = None) -> str:
    """The results as a Markdown table, preceded by the machine (and any ``header`` lines)."""
    lines = [f"Machine: {machine()}"]
    lines += [f"{k}: {v}" for k, v in (header or {}).items()]
    lines += [
        "",
        "| measurement | unit | n | p50 | p95 | p99 | baseline p50 | ratio | target | met | what |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for r in rows:
        cells = [
            r.name,
            r.unit,
            r.n,
            r.p50,
            r.p95,
            r.p99,
            r.baseline_p50,
            r.ratio_p50,
            r.target,
            r.met,
            r.note,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def print_rows(
    rows: list[Row],
    out_dir: str | os.PathLike[str] = "benchmarks/results",
    *,
    header: Mapping[str, str] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> None:
    """Print the table and write it to ``out_dir``/latest.md and latest.json.

    ``extras`` (time series and other detail) go into the JSON only.
    """
    header = {"Date": time.strftime("%Y-%m-%d %H:%M %Z"), **(header or {})}
    text = markdown(rows, header)
    print(text)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.md").write_text(text + "\n")
    document = {"machine": machine(), **header, "rows": [asdict(r) for r in rows], **(extras or {})}
    (folder / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
