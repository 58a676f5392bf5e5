"""GCS lifecycle rules as bookstore's :class:`~bookstore.store.LifecycleRule`, and back.

bookstore reads and writes lifecycle rules in S3's format (:mod:`bookstore.retention`
writes one: ``NoncurrentVersionExpiration`` for the workspace root). GCS's rules differ:

- a rule is an ``action`` (``Delete``, ``SetStorageClass``, ``AbortIncompleteMultipartUpload``)
  and a ``condition`` whose parts must all hold; there is no ID and no disabled rule;
- S3's ``NoncurrentDays`` is ``daysSinceNoncurrentTime`` with ``isLive: false``;
- S3's ``NewerNoncurrentVersions: k`` (keep the k newest noncurrent versions) is
  ``numNewerVersions: k + 1``, since GCS counts the live version among the newer ones.
  For an object whose live version was deleted, GCS then keeps one noncurrent version more
  than S3 would;
- a rule may name several prefixes (``matchesPrefix``), and suffixes, storage classes, ...

Having no ID, bookstore's own rule is known by its shape: ``Delete`` when not live, under
one prefix ending in ``/``, after some days since noncurrent (and, maybe, a number of newer
versions), and nothing else. Such a rule is read back as the S3 rule
:func:`bookstore.retention.workspace_rule` makes for that prefix, so ``bookstore retention``
replaces it; a rule of the same shape that someone wrote by hand is taken for bookstore's.
Every other rule is read with its GCS document and written back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import FeatureUnavailableError
from .store import LifecycleRule, retention_rule_id

#: The condition fields of bookstore's own rule (:func:`to_gcs` of retention's rule).
_OURS = frozenset({"isLive", "daysSinceNoncurrentTime", "numNewerVersions", "matchesPrefix"})
#: Conditions that select objects by something other than their name's prefix or age.
_FILTERS = frozenset(
    {"matchesSuffix", "matchesStorageClass", "customTimeBefore", "daysSinceCustomTime", "createdBefore"}
)


def is_gcs_rule(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` is a rule in GCS's format (rather than S3's)."""
    return "action" in document and "condition" in document


def from_gcs(document: Mapping[str, Any]) -> LifecycleRule:
    """A rule as GCS holds it, read as bookstore reads an S3 rule."""
    action = str((document.get("action") or {}).get("type") or "")
    condition: Mapping[str, Any] = document.get("condition") or {}
    prefixes = [str(p) for p in condition.get("matchesPrefix") or []]
    noncurrent = condition.get("isLive") is False or any(
        name in condition for name in ("daysSinceNoncurrentTime", "numNewerVersions", "noncurrentTimeBefore")
    )
    newer = condition.get("numNewerVersions")
    if (
        action == "Delete"
        and set(condition) <= _OURS
        and condition.get("isLive") is False
        and "daysSinceNoncurrentTime" in condition
        and len(prefixes) == 1
        and prefixes[0].endswith("/")
        and (newer is None or int(newer) >= 2)
    ):
        expiration: dict[str, int] = {"NoncurrentDays": int(condition["daysSinceNoncurrentTime"])}
        if newer is not None:
            expiration["NewerNoncurrentVersions"] = int(newer) - 1
        return LifecycleRule.from_document(
            {
                "ID": retention_rule_id(prefixes[0].removesuffix("/")),
                "Status": "Enabled",
                "Filter": {"Prefix": prefixes[0]},
                "NoncurrentVersionExpiration": expiration,
            }
        )
    if action == "Delete":
        actions: tuple[str, ...] = ("NoncurrentVersionExpiration",) if noncurrent else ("Expiration",)
    elif action == "SetStorageClass":
        actions = ("NoncurrentVersionTransitions",) if noncurrent else ("Transitions",)
    else:
        actions = (action,) if action else ()
    if condition.get("isLive") is None and not noncurrent and action in ("Delete", "SetStorageClass"):
        # No condition on liveness: it acts on noncurrent versions too.
        actions += (
            ("NoncurrentVersionExpiration",) if action == "Delete" else ("NoncurrentVersionTransitions",)
        )
    deletes_noncurrent = action == "Delete" and noncurrent
    return LifecycleRule(
        id="",
        enabled=True,
        prefix=_common_prefix(prefixes),
        conditional=len(prefixes) > 1 or any(name in condition for name in _FILTERS),
        noncurrent_days=condition.get("daysSinceNoncurrentTime") if deletes_noncurrent else None,
        newer_noncurrent_versions=int(newer) - 1 if deletes_noncurrent and newer is not None else None,
        actions=actions,
        document=dict(document),
    )


def to_gcs(rule: LifecycleRule) -> dict[str, Any]:
    """``rule`` as GCS takes it: a GCS rule as it was read, or bookstore's S3 rule translated.

    Raises
    ------
    FeatureUnavailableError
        An S3 rule GCS cannot express (only what :mod:`bookstore.retention` writes can be).
    """
    if is_gcs_rule(rule.document):
        return dict(rule.document)
    if (
        not rule.enabled
        or rule.conditional
        or rule.actions != ("NoncurrentVersionExpiration",)
        or rule.noncurrent_days is None
    ):
        raise FeatureUnavailableError(
            f"the lifecycle rule {rule.id!r} cannot be written as a GCS lifecycle rule: only an "
            "enabled rule that deletes noncurrent versions under a prefix after some days can"
        )
    condition: dict[str, Any] = {"isLive": False, "daysSinceNoncurrentTime": int(rule.noncurrent_days)}
    if rule.newer_noncurrent_versions is not None:
        condition["numNewerVersions"] = int(rule.newer_noncurrent_versions) + 1
    if rule.prefix:
        condition["matchesPrefix"] = [rule.prefix]
    return {"action": {"type": "Delete"}, "condition": condition}


def _common_prefix(texts: Sequence[str]) -> str:
    """The longest prefix of every one of ``texts`` ("" for none): what a rule naming several
    prefixes may reach."""
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
    return first[:size]
