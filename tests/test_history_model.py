"""A hypothesis state machine over save / publish / restore / list, through the REST API of a
live ``jupyter server`` archiving to SeaweedFS, checking each notebook's workspace and
published histories against a model.

Every save writes a notebook holding a marker of its own, so a version's content names the
save it came from. The model keeps, per notebook, the markers of its workspace versions and
publications in order (and their S3 version ids once learnt); after every step the server
must agree: listings (read page by page) newest first with the ids the model knows (a write
of the latest version's content adds none), only the newest marked latest, each publication
naming the save it was copied from, a publish of content that is already the latest
publication answered as unchanged, restores writing exactly the version asked for. Each
answer is also checked against the OpenAPI document.

Bounded by :data:`EXAMPLES` runs of at most :data:`STEPS` steps (``BOOKSTORE_MODEL_EXAMPLES``
raises it for a longer hunt).
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.helpers.jupyter_process import JupyterServer, notebook
from tests.helpers.openapi_check import Checker

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("BOOKSTORE_MODEL_EXAMPLES", "10"))
STEPS = 15
#: The notebooks of each run, under a folder of the run's own.
NAMES = ("a.ipynb", "sub/b.ipynb", "sub/c.ipynb")
STAGES = ("workspace", "published")
#: Small pages, so that listings are read across several.
PAGE = 2


@dataclass
class Version:
    marker: str
    version_id: str
    #: A publication's workspace version.
    source_version_id: str | None = None


@dataclass
class Notebook:
    """What the model knows of one notebook."""

    saved: str | None = None  # the marker of the file in Jupyter, if any
    history: dict[str, list[Version]] = field(default_factory=lambda: {stage: [] for stage in STAGES})


class History(RuleBasedStateMachine):
    def __init__(self, server: JupyterServer, checker: Checker) -> None:
        super().__init__()
        self.server = server
        self.checker = checker
        self.folder = f"model-{uuid.uuid4().hex[:8]}"
        self.markers = (f"{self.folder}-{i}" for i in itertools.count())
        self.notebooks = {name: Notebook() for name in NAMES}
        for folder in (self.folder, f"{self.folder}/sub"):
            answer = server.request("PUT", f"/api/contents/{folder}", json={"type": "directory"})
            assert answer.status_code in (200, 201), answer.text

    # -- talking to the server --------------------------------------------------------------

    def path(self, name: str) -> str:
        return f"{self.folder}/{name}"

    def call(self, method: str, endpoint: str, name: str, **kwargs: Any) -> requests.Response:
        answer = self.server.request(method, f"/api/bookstore/{endpoint}/{self.path(name)}", **kwargs)
        self.checker.check(method, f"/api/bookstore/{endpoint}/{{path}}", answer)
        return answer

    def marker_of(self, name: str, stage: str, version_id: str) -> str:
        answer = self.call("GET", "notebook", name, params={"stage": stage, "version_id": version_id})
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Bookstore-Version-Id"] == version_id
        return str(answer.json()["metadata"]["marker"])

    def listing(self, name: str, stage: str) -> list[dict[str, Any]] | None:
        """Every version, page after page (None when there is none)."""
        versions: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"stage": stage, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
            answer = self.call("GET", "versions", name, params=params)
            if answer.status_code == 404 and not versions and cursor is None:
                return None
            assert answer.status_code == 200, answer.text
            page = answer.json()
            versions += page["versions"]
            cursor = page["next_cursor"]
            if cursor is None:
                return versions

    def archived(self, name: str, marker: str) -> None:
        """After a write into Jupyter: its save is archived as the newest workspace version,
        holding ``marker`` (the newest already, when it held the same bytes)."""
        self.server.wait_archived()
        newest = self.call("GET", "versions", name, params={"limit": 1}).json()["versions"][0]
        history = self.notebooks[name].history["workspace"]
        if history and history[-1].marker == marker:
            # The same notebook again (a restore of its latest version): no version is added.
            assert newest["version_id"] == history[-1].version_id, "a version for an unchanged save"
            self.notebooks[name].saved = marker
            return
        assert newest["version_id"] not in {v.version_id for v in history}, "no new version for a save"
        assert self.marker_of(name, "workspace", newest["version_id"]) == marker
        history.append(Version(marker, newest["version_id"]))
        self.notebooks[name].saved = marker

    # -- rules --------------------------------------------------------------------------------

    @initialize()
    def first_save(self) -> None:
        """Each run starts with one notebook saved, so that its steps reach publications and
        restores rather than only the answers about nothing."""
        self.save(NAMES[0])

    @rule(name=st.sampled_from(NAMES))
    def save(self, name: str) -> None:
        marker = next(self.markers)
        self.server.save(self.path(name), notebook(f"marker = {marker!r}", marker=marker))
        self.archived(name, marker)

    @rule(name=st.sampled_from(NAMES), force=st.booleans())
    def publish_saved(self, name: str, force: bool) -> None:
        nb = self.notebooks[name]
        answer = self.call("PUT", "publish", name, json={"force": True} if force else {})
        if nb.saved is None:
            assert answer.status_code == 404, answer.text
            return
        # The saved file is the newest save (every write into Jupyter is archived at once).
        self.published(name, nb.history["workspace"][-1], force, answer)

    @precondition(lambda self: any(nb.history["workspace"] for nb in self.notebooks.values()))
    @rule(data=st.data(), force=st.booleans())
    def publish_version(self, data: st.DataObject, force: bool) -> None:
        name = data.draw(st.sampled_from([n for n in NAMES if self.notebooks[n].history["workspace"]]))
        source = data.draw(st.sampled_from(self.notebooks[name].history["workspace"]))
        body: dict[str, Any] = {"version_id": source.version_id, **({"force": True} if force else {})}
        self.published(name, source, force, self.call("PUT", "publish", name, json=body))

    def published(self, name: str, source: Version, force: bool, answer: requests.Response) -> None:
        publications = self.notebooks[name].history["published"]
        result = answer.json()
        if publications and publications[-1].marker == source.marker and not force:
            assert answer.status_code == 200, answer.text
            assert result["unchanged"] is True
            assert result["version_id"] == publications[-1].version_id
            return
        assert answer.status_code == 201, answer.text
        assert result["unchanged"] is False
        assert result["source_version_id"] == source.version_id
        assert result["version_id"] not in {v.version_id for v in publications}
        publications.append(Version(source.marker, result["version_id"], source.version_id))

    @precondition(lambda self: any(nb.history[s] for nb in self.notebooks.values() for s in STAGES))
    @rule(data=st.data(), into=st.sampled_from(NAMES), overwrite=st.booleans())
    def restore(self, data: st.DataObject, into: str, overwrite: bool) -> None:
        name, stage = data.draw(
            st.sampled_from([(n, s) for n in NAMES for s in STAGES if self.notebooks[n].history[s]])
        )
        version = data.draw(st.sampled_from(self.notebooks[name].history[stage]))
        body = {"stage": stage, "version_id": version.version_id, "target_path": self.path(into)}
        answer = self.call("POST", "restore", name, json={**body, "overwrite": overwrite})
        exists = self.notebooks[into].saved is not None
        if exists and not overwrite:
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == (200 if exists else 201), answer.text
        assert answer.json()["path"] == self.path(into)
        self.archived(into, version.marker)

    @rule(name=st.sampled_from(NAMES), stage=st.sampled_from(STAGES))
    def list_versions(self, name: str, stage: str) -> None:
        self.agrees(name, stage)

    def teardown(self) -> None:
        for name in NAMES:
            for stage in STAGES:
                self.agrees(name, stage)

    def agrees(self, name: str, stage: str) -> None:
        """The server's listing is the model's history, newest first."""
        expected = self.notebooks[name].history[stage]
        listed = self.listing(name, stage)
        if not expected:
            assert listed is None, f"{stage} versions of {name} the model does not know: {listed}"
            return
        assert listed is not None, f"no {stage} versions of {name}; the model has {len(expected)}"
        assert [v["version_id"] for v in listed] == [v.version_id for v in reversed(expected)]
        assert [v["is_latest"] for v in listed] == [True] + [False] * (len(listed) - 1)
        if stage == "published":
            assert [v["source_version_id"] for v in listed] == [
                v.source_version_id for v in reversed(expected)
            ]


def test_the_version_histories_follow_the_model(server: JupyterServer) -> None:
    checker = Checker()
    run_state_machine_as_test(
        lambda: History(server, checker),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The runs reached the interesting answers, not only the empty cases.
    reached = {(method, template.split("/")[3], status) for method, template, status in checker.statuses}
    assert {("PUT", "publish", 201), ("GET", "versions", 200)} <= reached
    assert reached & {("POST", "restore", 200), ("POST", "restore", 201)}
