"""Memory: the peak RSS a Jupyter server adds while saving (and archiving) a 100 MB notebook.

Measures the ``jupyter server`` process itself: its resident set just before a save, and its
high-water mark (``VmHWM``, reset through ``/proc/<pid>/clear_refs`` before each save) until
the save is answered and, when archiving, until its upload to S3 has finished. The
difference is the peak memory the save added.

Baseline: the same save on a plain jupyter_server (default contents manager), which already
parses the request, validates the notebook and writes it. The target (<= 2x the notebook
size) is shown against the whole peak added by the save, and against what archiving adds on
top of the plain save (serialising once more, spooling, and uploading the bytes).

Where ``clear_refs`` cannot be written, RSS is polled every 5 ms instead.

Run: ``.venv/bin/python -m benchmarks.memory [--rounds N] [--size BYTES]``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.fixtures import WORKSPACE_PREFIX, notebook_of_size, server_pid, servers, size_label
from benchmarks.report import MEGABYTES, Row, Target, print_rows, summarize
from tests.helpers.jupyter_process import JupyterServer

#: What archiving may add to a save's peak memory, in multiples of the notebook's size.
ADDED_TARGET_FACTOR = 2.0


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakRSS:
    """The peak resident memory of one process between :meth:`start` and :meth:`stop`, in bytes."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.process = psutil.Process(pid)
        self._polling = False
        self._peak = 0
        self._thread: threading.Thread | None = None
        self.uses_hwm = self._can_reset_hwm()

    def _can_reset_hwm(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            _status_kb(self.pid, "VmHWM")
            return True
        except (OSError, KeyError):
            return False

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def start(self) -> None:
        if self.uses_hwm:
            # Resets VmHWM to the current RSS (Linux >= 4.0).
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return
        self._peak = self.rss()
        self._polling = True
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while self._polling:
            self._peak = max(self._peak, self.rss())
            time.sleep(0.005)

    def stop(self) -> int:
        if self.uses_hwm:
            return _status_kb(self.pid, "VmHWM") * 1024
        self._polling = False
        if self._thread is not None:
            self._thread.join()
        return max(self._peak, self.rss())


def save_body(content: dict[str, Any]) -> bytes:
    """The contents API request body, encoded once (the client's memory is not measured)."""
    return json.dumps({"type": "notebook", "format": "json", "content": content}).encode()


def measured_save(server: JupyterServer, path: str, body: bytes, archived: bool) -> tuple[int, float]:
    """Save ``body`` at ``path``; return (peak bytes added, seconds until saved and archived)."""
    meter = PeakRSS(server_pid(server))
    time.sleep(0.5)  # let the previous round's memory settle
    before = meter.rss()
    meter.start()
    started = time.perf_counter()
    answer = server.session.put(
        f"{server.url}/api/contents/{path}",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=600,
    )
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"save failed: {answer.status_code} {answer.text[:500]}")
    if archived:
        server.wait_archived(timeout=600)
    elapsed = time.perf_counter() - started
    return meter.stop() - before, elapsed


def run(rounds: int = 3, size: int = 100_000_000) -> list[Row]:
    """Save a ``size``-byte notebook ``rounds`` times on each server; peak RSS added per save."""
    label = size_label(size)
    plain_added: list[float] = []
    archiving_added: list[float] = []
    extra: list[float] = []
    with servers("bench-memory", archiving=True, plain=True) as env:
        archiving, plain = env.archiving, env.plain
        assert archiving is not None and plain is not None
        content = notebook_of_size(size)
        key = f"{WORKSPACE_PREFIX}/big.ipynb"
        for i in range(rounds):
            content["metadata"]["round"] = i
            body = save_body(content)
            plain_peak, _ = measured_save(plain, "big.ipynb", body, archived=False)
            archiving_peak, _ = measured_save(archiving, "big.ipynb", body, archived=True)
            del body
            plain_added.append(plain_peak)
            archiving_added.append(archiving_peak)
            extra.append(archiving_peak - plain_peak)
        stored = env.store.head(key)
        if stored.size < size * 0.9:
            raise RuntimeError(f"{key} in S3 is {stored.size} bytes, expected about {size}")
        status = archiving.status()["archive"]
        if status["not_archived"] or status["archived"] < rounds:
            raise RuntimeError(f"not every save was archived: {status}")
    hwm = "VmHWM" if PeakRSS(psutil.Process().pid).uses_hwm else "RSS polled every 5 ms"
    target = Target("p50", ADDED_TARGET_FACTOR * size / 1e6)
    return [
        summarize(
            f"memory: save {label}, peak RSS added",
            archiving_added,
            plain_added,
            f"jupyter server process ({hwm}), save + upload, archiving vs plain jupyter_server",
            unit=MEGABYTES,
            target=target,
        ),
        summarize(
            f"memory: added by archiving {label}",
            extra,
            None,
            f"archiving peak - plain peak, per round; target {ADDED_TARGET_FACTOR:g}x the notebook size",
            unit=MEGABYTES,
            target=target,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=100_000_000, help="notebook size in bytes")
    args = parser.parse_args()
    print_rows(run(args.rounds, args.size))


if __name__ == "__main__":
    main()
