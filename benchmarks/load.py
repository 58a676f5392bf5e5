"""Sustained load: N notebooks saved concurrently through the contents REST API.

N client threads each save their own ~100 KB notebook, over and over, to a Jupyter server.

1. **Saturation** (closed loop): every client saves again as soon as its previous save is
   answered, for a fixed time, on a plain jupyter_server (the baseline) and on one archiving
   with bookstore, taking turns (twice each) so that the machine's load hits both alike.
   Gives the most saves per second each server answers, their save latency under that load,
   and the CPU each server process spends per save (its uploads included; SeaweedFS's is
   noted beside it).
2. **Rate steps** (open loop): the archiving server gets a fixed offered rate, spread over
   the N clients, in steps from 30% to 100% of its saturation rate. A rate is *held* when
   the clients achieve at least 95% of it, the archive queue ends the step with at most one
   second's worth of saves pending (it keeps pace rather than growing), and after the queue
   drains every answered save is a version in S3 (zero loss: the version count of every
   key in S3 equals its answered saves, and the newest version is the bytes on disk).

Throughout, ``GET /api/bookstore`` is sampled every 100 ms for ``archive.pending``, the
queue depth over time (the full series goes into ``latest.json``).

Run: ``.venv/bin/python -m benchmarks.load [--notebooks N] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil
import requests

from benchmarks.fixtures import WORKSPACE_PREFIX, notebook_of_size, server_pid, servers, size_label
from benchmarks.report import Row, Target, print_rows, summarize
from tests.helpers.jupyter_process import JupyterServer

RATE_STEPS = (0.3, 0.5, 0.7, 0.85, 1.0)
#: The issue's targets: saturated saves/s at least 0.9x plain, server CPU per save at most 1.15x.
THROUGHPUT_TARGET = Target("ratio", 0.9, at_most=False)
CPU_TARGET = Target("ratio", 1.15)
#: The seq placeholder inside each request body, replaced by a fixed-width number per save.
_SEQ = b"SEQ-0000000000"


@dataclass
class Phase:
    """What one load phase saw."""

    name: str
    offered: float | None
    seconds: float
    latencies: list[float] = field(default_factory=list)
    saves_per_notebook: list[int] = field(default_factory=list)
    errors: int = 0
    queue: list[tuple[float, int]] = field(default_factory=list)
    pending_at_end: int = 0
    drain_seconds: float = 0.0
    verified: bool | None = None
    #: CPU seconds (user + system) per process, over the phase and its drain.
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def cpu_per_save(self, process: str) -> float:
        return self.cpu_seconds.get(process, 0.0) / max(1, self.saves)

    @property
    def saves(self) -> int:
        return sum(self.saves_per_notebook)

    @property
    def rate(self) -> float:
        return self.saves / self.seconds

    def summary(self) -> dict[str, Any]:
        depths = [d for _, d in self.queue]
        return {
            "name": self.name,
            "offered_per_s": self.offered,
            "achieved_per_s": round(self.rate, 2),
            "saves": self.saves,
            "errors": self.errors,
            "max_queue_depth": max(depths, default=0),
            "pending_at_end": self.pending_at_end,
            "drain_seconds": round(self.drain_seconds, 3),
            "verified_in_s3": self.verified,
            "cpu_seconds": {k: round(v, 3) for k, v in self.cpu_seconds.items()},
            "queue_depth_series": [[round(t, 2), d] for t, d in self.queue],
        }


class Bodies:
    """Pre-encoded contents API request bodies, one per notebook, with a per-save sequence."""

    def __init__(self, notebooks: int, size: int) -> None:
        content = notebook_of_size(size)
        self.templates: list[bytes] = []
        for i in range(notebooks):
            content["metadata"]["bench"] = {"notebook": i, "seq": _SEQ.decode()}
            model = {"type": "notebook", "format": "json", "content": content}
            self.templates.append(json.dumps(model).encode())
        self._seq = 0
        self._lock = threading.Lock()

    def next(self, notebook: int) -> bytes:
        with self._lock:
            self._seq += 1
            seq = self._seq
        return self.templates[notebook].replace(_SEQ, f"SEQ-{seq:010d}".encode())


def _save(session: requests.Session, server: JupyterServer, path: str, body: bytes) -> bool:
    try:
        answer = session.put(
            f"{server.url}/api/contents/{path}",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
    except requests.RequestException:
        return False
    return answer.status_code in (200, 201)


def _client_session(server: JupyterServer) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"token {server.token}"
    return session


class QueueSampler:
    """Polls ``archive.pending`` every ``interval`` seconds in a thread."""

    def __init__(self, server: JupyterServer, interval: float = 0.1) -> None:
        self.server = server
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._session = _client_session(server)
        self._started = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = self._session.get(f"{self.server.url}/api/bookstore", timeout=10).json()
                self.samples.append((time.perf_counter() - self._started, int(status["archive"]["pending"])))
            except (requests.RequestException, ValueError, KeyError):
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> QueueSampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def drive(
    server: JupyterServer,
    bodies: Bodies,
    notebooks: int,
    seconds: float,
    rate: float | None,
    name: str,
) -> Phase:
    """Save from ``notebooks`` threads for ``seconds``: as fast as possible, or at ``rate``/s in all."""
    phase = Phase(name=name, offered=rate, seconds=seconds, saves_per_notebook=[0] * notebooks)
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    deadline = start + seconds

    def client(i: int) -> None:
        session = _client_session(server)
        interval = notebooks / rate if rate else 0.0
        next_at = start + interval * i / notebooks  # spread the clients over one interval
        while True:
            now = time.perf_counter()
            if rate:
                if next_at >= deadline:
                    return
                if next_at > now:
                    time.sleep(next_at - now)
                next_at += interval
            elif now >= deadline:
                return
            else:
                time.sleep(max(0.0, start - now))
            body = bodies.next(i)
            began = time.perf_counter()
            ok = _save(session, server, f"load-{i}.ipynb", body)
            took = time.perf_counter() - began
            with lock:
                if ok:
                    phase.saves_per_notebook[i] += 1
                    phase.latencies.append(took)
                else:
                    phase.errors += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(notebooks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Saves answered after the deadline still count; the rate is over the time actually taken.
    phase.seconds = max(seconds, time.perf_counter() - start)
    return phase


class CpuMeter:
    """CPU seconds (user + system) that some processes spend between :meth:`start` and :meth:`stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._start: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: sum(p.cpu_times()[:2]) for name, p in self.processes.items()}

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> dict[str, float]:
        return {name: t - self._start[name] for name, t in self._now().items()}


def pending(server: JupyterServer) -> int:
    return int(server.status()["archive"]["pending"])


def drain(server: JupyterServer, timeout: float = 300.0) -> float:
    """Wait until the archive queue is empty; return how long it took."""
    started = time.perf_counter()
    server.wait_archived(timeout)
    return time.perf_counter() - started


def count_versions(client: Any, bucket: str, key: str) -> int:
    count = 0
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        count += sum(1 for v in page.get("Versions", []) if v["Key"] == key)
    return count


def verify(env: Any, server: JupyterServer, notebooks: int, expected: list[int]) -> bool:
    """Every answered save is a version in S3, and the newest version is what is on disk."""
    client = env.client()
    ok = True
    for i in range(notebooks):
        key = f"{WORKSPACE_PREFIX}/load-{i}.ipynb"
        found = count_versions(client, env.bucket, key)
        if found != expected[i]:
            print(f"  LOSS: {key} has {found} versions in S3, {expected[i]} saves were answered")
            ok = False
        on_disk = (server.root_dir / f"load-{i}.ipynb").read_bytes()
        if env.store.head(key).metadata.get("bookstore-sha256") != hashlib.sha256(on_disk).hexdigest():
            print(f"  MISMATCH: the newest version of {key} is not the notebook on disk")
            ok = False
    status = server.status()["archive"]
    if status["not_archived"] or status["state"] != "ok":
        print(f"  archive status: {status}")
        ok = False
    return ok


def run(
    notebooks: int = 8, seconds: float = 8.0, size: int = 100_000, pairs: int = 2
) -> tuple[list[Row], dict[str, Any]]:
    """Saturate a plain and an archiving server in turn, then step the archiving one through rates."""
    label = f"{notebooks} notebooks x {size_label(size)}"
    phases: list[Phase] = []
    with servers("bench-load", archiving=True, plain=True) as env:
        archiving, plain = env.archiving, env.plain
        assert archiving is not None and plain is not None and env.s3.process is not None
        bodies = Bodies(notebooks, size)
        expected = [0] * notebooks
        plain_cpu = CpuMeter({"jupyter": server_pid(plain)})
        archiving_cpu = CpuMeter({"jupyter": server_pid(archiving), "seaweedfs": env.s3.process.pid})

        def plain_phase(name: str) -> Phase:
            plain_cpu.start()
            phase = drive(plain, bodies, notebooks, seconds, None, name)
            phase.cpu_seconds = plain_cpu.stop()
            print(f"  {name}: achieved {phase.rate:.1f}/s", flush=True)
            return phase

        def archived_phase(rate: float | None, name: str) -> Phase:
            archiving_cpu.start()
            with QueueSampler(archiving) as sampler:
                phase = drive(archiving, bodies, notebooks, seconds, rate, name)
                phase.pending_at_end = pending(archiving)
                phase.drain_seconds = drain(archiving)
            phase.cpu_seconds = archiving_cpu.stop()
            phase.queue = sampler.samples
            for i, n in enumerate(phase.saves_per_notebook):
                expected[i] += n
            phase.verified = verify(env, archiving, notebooks, expected)
            phases.append(phase)
            print(
                f"  {name}: offered {rate or 'max'}/s, achieved {phase.rate:.1f}/s, "
                f"queue max {max((d for _, d in phase.queue), default=0)}, "
                f"pending at end {phase.pending_at_end}, drained in {phase.drain_seconds:.2f} s, "
                f"verified {phase.verified}",
                flush=True,
            )
            return phase

        drive(plain, bodies, notebooks, 1.0, None, "warm-up")  # connections, imports, caches
        drive(archiving, bodies, notebooks, 1.0, None, "warm-up")
        drain(archiving)
        for i in range(notebooks):  # the warm-up saves are versions too
            expected[i] = count_versions(env.client(), env.bucket, f"{WORKSPACE_PREFIX}/load-{i}.ipynb")
        # Plain and archiving take turns, so a change in the machine's load hits both.
        plain_max: list[Phase] = []
        archiving_max: list[Phase] = []
        for i in range(pairs):
            plain_max.append(plain_phase(f"plain, saturating ({i + 1})"))
            archiving_max.append(archived_phase(None, f"archiving, saturating ({i + 1})"))
        saturation = statistics.median(p.rate for p in archiving_max)

        held: Phase | None = None
        for fraction in RATE_STEPS:
            rate = round(saturation * fraction, 1)
            phase = archived_phase(rate, f"archiving at {rate}/s")
            keeps_pace = phase.pending_at_end <= max(notebooks, rate * 1.0)
            if phase.rate >= 0.95 * rate and keeps_pace and phase.verified and not phase.errors:
                held = phase
            else:
                break
        lost = [p.name for p in phases if not p.verified]

    plain_rates = [p.rate for p in plain_max]
    seaweed_cpu = statistics.median(p.cpu_per_save("seaweedfs") for p in archiving_max)
    rows = [
        summarize(
            f"load: saves answered, {label}, saturating",
            [p.rate for p in archiving_max],
            plain_rates,
            f"closed loop, {seconds:g} s x {pairs} turns each: every client saves again once answered; "
            "archiving vs plain jupyter_server",
            unit=("saves/s", 1.0),
            target=THROUGHPUT_TARGET,
        ),
        summarize(
            "load: save latency, saturating",
            [t for p in archiving_max for t in p.latencies],
            [t for p in plain_max for t in p.latencies],
            "latency of those saves, archiving vs plain jupyter_server",
        ),
        summarize(
            "load: Jupyter server CPU per save, saturating",
            [p.cpu_per_save("jupyter") for p in archiving_max],
            [p.cpu_per_save("jupyter") for p in plain_max],
            "user + system CPU of the Jupyter server process (uploads included), archiving vs plain; "
            f"SeaweedFS another {seaweed_cpu * 1000:.1f} ms per archived save",
            target=CPU_TARGET,
        ),
        summarize(
            "load: queue depth, saturating",
            [float(d) for p in archiving_max for _, d in p.queue] or [0.0],
            None,
            "archive.pending sampled every 100 ms; drained "
            + ", ".join(f"{p.drain_seconds:.2f}" for p in archiving_max)
            + " s after",
            unit=("saves", 1.0),
        ),
    ]
    if held is not None:
        rows += [
            summarize(
                "load: highest rate held with zero loss",
                [held.rate],
                plain_rates,
                f"offered {held.offered}/s; queue kept pace; every save a version in S3; "
                "baseline: plain jupyter_server saturating",
                unit=("saves/s", 1.0),
            ),
            summarize(
                "load: queue depth at the held rate",
                [float(d) for _, d in held.queue] or [0.0],
                None,
                f"archive.pending sampled every 100 ms; drained {held.drain_seconds:.2f} s after",
                unit=("saves", 1.0),
            ),
        ]
    else:
        rows.append(
            summarize(
                "load: highest rate held with zero loss",
                [0.0],
                plain_rates,
                f"no rate step held (lost or behind in: {', '.join(lost) or 'none'})",
                unit=("saves/s", 1.0),
            )
        )
    if lost:
        rows.append(
            summarize(
                "load: phases with lost saves", [float(len(lost))], None, ", ".join(lost), unit=("", 1.0)
            )
        )
    return rows, {"load_phases": [p.summary() for p in phases]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--size", type=int, default=100_000, help="notebook size in bytes")
    parser.add_argument("--pairs", type=int, default=2, help="saturation turns of each server")
    args = parser.parse_args()
    rows, extras = run(args.notebooks, args.seconds, args.size, args.pairs)
    print_rows(rows, extras=extras)


if __name__ == "__main__":
    main()
