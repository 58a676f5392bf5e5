"""The local SeaweedFS used by tests, benchmarks and ``make run``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from devtools.seaweedfs import SeaweedFS

# Each starts SeaweedFS twice, waiting for one to give up a port it cannot have.
pytestmark = pytest.mark.slow


def test_an_internal_port_taken_before_a_restart_is_picked_again(tmp_path: Path) -> None:
    server = SeaweedFS(tmp_path)
    server.start()
    try:
        server.create_bucket("before-a-collision")
        server.stop()
        s3_port, master_port = server.ports["s3"], server.ports["master"]
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", master_port))
            squatter.listen()
            server.start()
        assert server.ports["master"] != master_port
        assert server.ports["s3"] == s3_port  # clients keep the S3 address
        client = server.client()
        client.put_object(Bucket="before-a-collision", Key="k", Body=b"v")
        assert client.get_object(Bucket="before-a-collision", Key="k")["Body"].read() == b"v"
    finally:
        server.kill()


def test_a_server_that_took_the_picked_s3_port_is_not_mistaken_for_this_one(tmp_path: Path) -> None:
    """Another SeaweedFS (another test worker's, with the same keys) listening on the port
    this one picked answers as this one would: this one must not return as started, sending
    clients to the other; it picks another port."""
    mine = SeaweedFS(tmp_path / "mine")
    other = SeaweedFS(tmp_path / "other", s3_port=mine.ports["s3"])
    other.start()
    try:
        taken = mine.endpoint_url
        mine.start()
        try:
            assert mine.endpoint_url != taken
            mine.create_bucket("only-in-mine")
            assert "only-in-mine" not in {b["Name"] for b in other.client().list_buckets()["Buckets"]}
        finally:
            mine.kill()
    finally:
        other.kill()
