"""How long the bucket keeps saves that are no longer a notebook's latest: one S3 lifecycle
rule for noncurrent **workspace** versions.

Every save is a version; S3 bills every version kept. The rule
(``NoncurrentVersionExpiration``) lets S3 delete a save some days after a newer save
replaced it, keeping the newest few of them whatever their age. It is scoped to the
workspace root (``workspace`` for ``workspace/{username}/notebooks``, the whole prefix
otherwise), so published versions, which Airflow runs by version id, and executed notebooks
(``runs``) are never touched. The bucket's other lifecycle rules are kept as they are; the
rule bookstore writes is known by its ID, one per workspace root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequestError, MisconfiguredError
from .keys import template_root
from .store import Lifecycle, LifecycleRule, retention_rule_id

if TYPE_CHECKING:
    from .config import Bookstore
    from .store import Store

#: S3's bounds: NoncurrentDays at least 1; NewerNoncurrentVersions from 1 to 100.
MAX_KEEP = 100


@dataclass(frozen=True)
class Scope:
    """The keys a retention rule is for, and those it must never reach.

    Attributes
    ----------
    prefix
        The workspace root, without a trailing slash.
    protected
        What the rule must never reach, by name: the published root and prefix, the runs
        prefix.
    """

    prefix: str
    protected: Mapping[str, str]

    @property
    def filter_prefix(self) -> str:
        """The rule's ``Filter.Prefix``: the root and a slash, so ``workspace`` does not reach
        ``workspace-old/``."""
        return f"{self.prefix}/"

    @property
    def rule_id(self) -> str:
        return retention_rule_id(self.prefix)


def scope_of(bookstore: Bookstore, runs_prefix: str) -> Scope:
    """The scope of the rule for these settings, checked to stay clear of the published and
    runs prefixes.

    Raises
    ------
    MisconfiguredError
        When the workspace root is the whole bucket, or holds (or lies in) a protected prefix.
    """
    prefix = template_root(bookstore.template("workspace_prefix"))
    published_root, _ = bookstore.published_layout()
    protected = {
        "published": template_root(bookstore.template("published_prefix")),
        "published root": published_root,
        "runs": template_root(runs_prefix),
    }
    if not prefix:
        raise MisconfiguredError(
            "the workspace prefix is the whole bucket, so a rule for it would also delete "
            "published and runs versions: set c.Bookstore.workspace_prefix (e.g. "
            "'workspace/{username}/notebooks')"
        )
    for name, other in protected.items():
        if not other or _overlap(prefix, other):
            raise MisconfiguredError(
                f"the workspace root {prefix!r} and the {name} prefix {other!r} overlap, so a rule "
                f"for noncurrent workspace versions would reach {name} versions too; give them "
                "prefixes of their own"
            )
    return Scope(prefix, protected)


def _overlap(prefix: str, other: str) -> bool:
    return (other + "/").startswith(prefix + "/") or (prefix + "/").startswith(other + "/")


def check_retention(noncurrent_days: int, keep: int | None) -> None:
    """Refuse values S3 would refuse, saying which.

    Raises
    ------
    InvalidRequestError
    """
    if noncurrent_days < 1:
        raise InvalidRequestError(f"--noncurrent-days must be 1 or more, not {noncurrent_days}")
    if keep is not None and not 1 <= keep <= MAX_KEEP:
        raise InvalidRequestError(f"--keep must be between 1 and {MAX_KEEP} (S3's limit), not {keep}")


def workspace_rule(scope: Scope, noncurrent_days: int, keep: int | None) -> LifecycleRule:
    """The rule: noncurrent workspace versions expire ``noncurrent_days`` after a newer save,
    except the ``keep`` newest of them."""
    check_retention(noncurrent_days, keep)
    expiration: dict[str, int] = {"NoncurrentDays": noncurrent_days}
    if keep is not None:
        expiration["NewerNoncurrentVersions"] = keep
    return LifecycleRule.from_document(
        {
            "ID": scope.rule_id,
            "Status": "Enabled",
            "Filter": {"Prefix": scope.filter_prefix},
            "NoncurrentVersionExpiration": expiration,
        }
    )


def with_rule(lifecycle: Lifecycle, scope: Scope, rule: LifecycleRule | None) -> Lifecycle:
    """``lifecycle`` with bookstore's rule for ``scope`` replaced by ``rule`` (removed when
    None), every other rule and setting as it was."""
    rules = list(lifecycle.rules)
    at = next((i for i, r in enumerate(rules) if r.id == scope.rule_id), None)
    if at is not None:
        del rules[at]
    if rule is not None:
        rules.insert(len(rules) if at is None else at, rule)
    return Lifecycle(tuple(rules), lifecycle.settings)


def reaches(rule: LifecycleRule, prefix: str) -> bool:
    """Whether ``rule`` may act on some key under ``prefix``."""
    return (prefix + "/").startswith(rule.prefix) or rule.prefix.startswith(prefix + "/")


def describe(store: Store, scope: Scope, lifecycle: Lifecycle) -> dict[str, Any]:
    """What the bucket's lifecycle means for bookstore's keys, as ``--json`` shows it."""
    ours = next((r for r in lifecycle.rules if r.id == scope.rule_id), None)
    others = []
    for rule in lifecycle.rules:
        if rule is ours:
            continue
        reached = sorted({name.split()[0] for name, p in scope.protected.items() if p and reaches(rule, p)})
        others.append(
            {
                "id": rule.id,
                "enabled": rule.enabled,
                "prefix": rule.prefix,
                "conditional": rule.conditional,
                "actions": list(rule.actions),
                "reaches": reached if rule.enabled else [],
            }
        )
    return {
        "bucket": store.bucket,
        "workspace_prefix": scope.filter_prefix,
        "rule": None
        if ours is None
        else {
            "id": ours.id,
            "enabled": ours.enabled,
            "noncurrent_days": ours.noncurrent_days,
            "keep": ours.newer_noncurrent_versions,
        },
        "other_rules": others,
    }
