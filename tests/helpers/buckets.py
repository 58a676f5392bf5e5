"""Names of buckets tests create in a SeaweedFS or a GCS-API server (valid names for both)."""

from __future__ import annotations

import uuid


def new_bucket_name() -> str:
    return f"nb-{uuid.uuid4().hex[:12]}"
