"""A team sharing one bucket: prefixes naming each user, and a user's library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bookstore.library import Library
from bookstore.store import Store
from tests.helpers.jupyter_process import seed_config

if TYPE_CHECKING:
    from devtools.seaweedfs import SeaweedFS

#: The seed's static prefixes, and the templates naming each server's owner in their place.
TEAM_PREFIXES = {
    '"/workspace/kylek/notebooks"': '"workspace/{username}/notebooks"',
    '"/published/kylek/notebooks"': '"published/{username}/notebooks"',
}


def team_config(server: SeaweedFS, bucket: str) -> str:
    """The seed's configuration with prefixes naming the server's owner (``{username}``)."""
    config = seed_config(server, bucket)
    for static, template in TEAM_PREFIXES.items():
        config = config.replace(static, template)
    return config


def library_of(store: Store, user: str) -> Library:
    """``user``'s library in a team's bucket, reading everyone's publications."""
    return Library(
        store,
        workspace_prefix=f"workspace/{user}/notebooks",
        published_prefix=f"published/{user}/notebooks",
        published_root="published",
        owner_index=0,
    )
