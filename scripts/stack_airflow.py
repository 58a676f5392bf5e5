"""The pieces of ``make run``'s Airflow that Airflow's own processes import or run.

- :func:`loopback_hostname` is Airflow's ``[core] hostname_callable`` in the stack. A task
  instance records the host its log is served from, and the log server below listens on
  loopback only, so that host must be 127.0.0.1, not the machine's name (which may resolve to
  127.0.1.1 or a LAN address).
- ``python scripts/stack_airflow.py WORKER_LOG_PORT TRIGGER_LOG_PORT`` serves task and
  triggerer logs on 127.0.0.1, both ports from one process. The scheduler and the triggerer
  would each start Airflow's log server on every interface (``airflow.utils.serve_logs`` binds
  ``""`` and has no setting for it), so the stack starts them with ``--skip-serve-logs`` and
  runs this instead, with the same application.
"""

from __future__ import annotations

import socket
import sys

HOST = "127.0.0.1"


def loopback_hostname() -> str:
    """The host name Airflow records for its task and triggerer logs."""
    return HOST


def serve_logs(ports: list[int]) -> None:
    """Serve Airflow's log server application on ``HOST``, on each of ``ports``."""
    import uvicorn
    from airflow.configuration import conf

    try:
        from setproctitle import setproctitle

        setproctitle("airflow serve-logs (127.0.0.1)")
    except ImportError:  # only a nicer name in ps
        pass
    sockets = []
    for port in ports:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sockets.append(sock)
    config = uvicorn.Config(
        "airflow.utils.serve_logs.log_server:get_app",
        factory=True,
        log_level=conf.get("logging", "uvicorn_logging_level", fallback="info").lower(),
        # As Airflow runs it: keep Airflow's logging set-up, no access log of log downloads.
        log_config=None,
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    serve_logs([int(port) for port in sys.argv[1:]])
