"""The local SeaweedFS used by tests, benchmarks and ``make run``."""

from __future__ import annotations

import socket
from pathlib import Path

from devtools.seaweedfs import SeaweedFS


def test_a_port_taken_before_start_is_picked_again(tmp_path: Path) -> None:
    server = SeaweedFS(tmp_path)
    s3_port, master_port = server.ports["s3"], server.ports["master"]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", master_port))
        squatter.listen()
        try:
            server.start()
            assert server.ports["master"] != master_port
            assert server.ports["s3"] == s3_port  # clients keep the S3 address
            server.create_bucket("after-a-collision")
            client = server.client()
            client.put_object(Bucket="after-a-collision", Key="k", Body=b"v")
            assert client.get_object(Bucket="after-a-collision", Key="k")["Body"].read() == b"v"
        finally:
            server.kill()
