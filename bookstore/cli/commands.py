"""The subcommands about notebooks and their versions: versions, publish, show, diff and
restore; and about the bucket: catalog and retention.

Each one parses its options, calls :class:`bookstore.library.Library` (or
:mod:`bookstore.compare`), and hands the answer to :mod:`bookstore.cli.output`. The common
options, the exit statuses and the error messages are the group's, in :mod:`bookstore.cli`;
the subcommands that run notebooks are in :mod:`bookstore.cli.running`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..compare import compare, format_diff, stored_side
from ..errors import NotFoundError, VersionNotFoundError
from ..keys import validate_path
from ..library import (
    DEFAULT_PAGE_SIZE,
    STAGES,
    WORKSPACE,
    describe,
    page_as_json,
    parse_limit,
    restore_candidates,
)
from ..notebooks import read as read_notebook
from ..notebooks import read_json
from . import output
from .files import local_root, read_local, write_first_free, write_replacing, write_target
from .options import command, cursor_option, root_option, runs_prefix_option, stage_option
from .session import Session, pass_session
from .suggestions import with_suggestion


@command("versions", "list the versions of a notebook, newest first")
@click.argument("path")
@stage_option
@click.option("--limit", type=int, default=DEFAULT_PAGE_SIZE, show_default=True, help="versions per page")
@cursor_option
@click.option("--all", "every", is_flag=True, help="list every version, page after page")
@pass_session
def versions(session: Session, path: str, stage: str, limit: int, cursor: str | None, every: bool) -> None:
    limit = parse_limit(limit)
    library = session.library
    key = library.key(path, stage)
    try:
        page = library.versions(path, stage, limit=limit, cursor=cursor)
    except NotFoundError as e:
        raise with_suggestion(e, session, "versions", path, stage) from e
    listed = list(page.versions)
    while every and page.next_cursor:
        page = library.versions(path, stage, limit=limit, cursor=page.next_cursor)
        listed += page.versions
    answer = page_as_json(key, stage, page)
    answer["versions"] = [v.as_json() for v in listed]
    session.emit(answer, lambda: output.versions_listing(key, path, stage, listed, page.next_cursor))


@command(
    "publish",
    "publish a local notebook, or one of its workspace versions",
    "PATH is the notebook's path relative to --root-dir, e.g. analysis/mine.ipynb.",
)
@click.argument("path")
@click.option(
    "--version-id",
    help="publish this workspace version instead of the local file (which then need not exist)",
)
@click.option(
    "--force", is_flag=True, help="publish even when the content is already the latest published version"
)
@root_option
@pass_session
def publish(session: Session, path: str, version_id: str | None, force: bool, root_dir: str | None) -> None:
    # Recorded with the publication: the owner of the prefixes it is written under. The
    # store verifies it where each user's credentials may write only under their own
    # prefixes (see the README's "Who published"); a terminal's $JUPYTERHUB_USER alone names
    # no one the store would let write there.
    by = session.bookstore.owner()
    if version_id:
        published = session.library.publish_version(
            validate_path(path), version_id, force=force, published_by=by
        )
    else:
        jupyter_path, _, body = read_local(local_root(root_dir), path)
        published = session.library.publish_saved(jupyter_path, body, force=force, published_by=by)
    session.emit(published.as_json(), lambda: output.publish_summary(published))


@command("show", "print one version of a notebook (--json: the notebook itself)")
@click.argument("path")
@stage_option
@click.option("--version-id", help="which version (default: the latest)")
@click.option("-o", "--output", "output_file", metavar="FILE", help="write the notebook to FILE as stored")
@pass_session
def show(session: Session, path: str, stage: str, version_id: str | None, output_file: str | None) -> None:
    try:
        stored = session.library.read(validate_path(path), stage, version_id)
    except NotFoundError as e:
        if isinstance(e, VersionNotFoundError):
            raise
        raise with_suggestion(e, session, "show", path, stage) from e
    if output_file:
        write_replacing(Path(output_file), stored.body)
        info = stored.info
        click.echo(f"wrote {output_file} ({info.size} bytes) from {info.key} version {info.version_id}")
    elif session.json:
        click.echo(stored.body, nl=False)
    else:
        click.echo(output.describe_notebook(stored, read_json(stored.body, describe(stored))))


@command("diff", "compare a version with the local notebook or another version (nbdime)")
@click.argument("path")
@stage_option
@click.option("--version-id", help="the version to compare (default: the stage's latest)")
@click.option(
    "--remote-stage",
    type=click.Choice(STAGES),
    help="compare with a stored version of this stage (its latest without --remote-version-id) "
    "instead of the local file",
)
@click.option(
    "--remote-version-id", help="compare with this stored version (of --remote-stage, default workspace)"
)
@root_option
@pass_session
def diff(
    session: Session,
    path: str,
    stage: str,
    version_id: str | None,
    remote_stage: str | None,
    remote_version_id: str | None,
    root_dir: str | None,
) -> None:
    jupyter_path = validate_path(path)
    base, base_version = stored_side(session.library, jupyter_path, stage, version_id)
    if remote_stage is None and remote_version_id is None:
        _, file, body = read_local(
            local_root(root_dir),
            path,
            "check the path and --root-dir, or compare two stored versions with --remote-stage "
            "and --remote-version-id",
        )
        remote = read_notebook(body, str(file))
        remote_version: dict[str, Any] = {
            "stage": None,
            "path": jupyter_path,
            "file": str(file),
            "version_id": None,
        }
        remote_name = str(file)
    else:
        remote, remote_version = stored_side(
            session.library, jupyter_path, remote_stage or WORKSPACE, remote_version_id
        )
        remote_name = f"{remote_version['key']} version {remote_version['version_id']}"
    answer = compare((base, base_version), (remote, remote_version))
    entries = answer["diff"]
    base_name = f"{base_version['key']} version {base_version['version_id']}"
    session.emit(
        answer,
        lambda: output.diff_text(
            base_name, remote_name, format_diff(base, entries, color=sys.stdout.isatty()) if entries else None
        ),
    )


@command("restore", "write one version of a notebook into a local file")
@click.argument("path")
@stage_option
@click.option("--version-id", required=True, help="the version to restore")
@click.option(
    "--target",
    metavar="PATH",
    help="where to write it, relative to --root-dir (default: a new file next to PATH, "
    "e.g. mine-restored.ipynb)",
)
@click.option("--overwrite", is_flag=True, help="replace --target if it exists")
@root_option
@pass_session
def restore(
    session: Session,
    path: str,
    stage: str,
    version_id: str,
    target: str | None,
    overwrite: bool,
    root_dir: str | None,
) -> None:
    jupyter_path = validate_path(path)
    stored, _ = session.library.read_notebook(jupyter_path, stage, version_id)
    root = local_root(root_dir)
    if target:
        written, file = write_target(root, target, stored.body, overwrite=overwrite)
    else:
        written, file = write_first_free(root, restore_candidates(jupyter_path), stored.body)
    info = stored.info
    answer = {
        "path": written,
        "file": str(file),
        "key": info.key,
        "version_id": info.version_id,
        "size": info.size,
    }
    session.emit(answer, lambda: f"restored {info.key} version {info.version_id} to {written}")


@command(
    "catalog",
    "list every user's published notebooks, the latest version of each",
    "Each notebook is named by its key relative to the published root (c.Bookstore."
    "published_root), as an Airflow task's notebook_key names it.",
)
@click.option("--limit", type=int, default=DEFAULT_PAGE_SIZE, show_default=True, help="notebooks per page")
@cursor_option
@click.option("--all", "every", is_flag=True, help="list every notebook, page after page")
@pass_session
def catalog(session: Session, limit: int, cursor: str | None, every: bool) -> None:
    limit = parse_limit(limit)
    team = session.library.catalog
    page = team.page(limit=limit, cursor=cursor)
    listed = list(page.notebooks)
    while every and page.next_cursor:
        page = team.page(limit=limit, cursor=page.next_cursor)
        listed += page.notebooks
    answer = {
        "published_root": team.root,
        "notebooks": [entry.as_json() for entry in listed],
        "next_cursor": page.next_cursor,
    }
    session.emit(answer, lambda: output.catalog_listing(team.root, listed, page.next_cursor))


@command(
    "retention",
    "show or set how long saves that are no longer the latest are kept",
    "Without options, shows the bucket's S3 lifecycle rule for noncurrent workspace versions "
    "(saves a newer save replaced). With --noncurrent-days, sets it: S3 deletes such a save "
    "that many days after it was replaced, except the --keep newest of them. The rule covers "
    "the workspace root only (e.g. workspace/ for workspace/{username}/notebooks): each "
    "notebook's latest save, published versions and runs are never touched. The bucket's "
    "other lifecycle rules are kept.",
)
@click.option(
    "--noncurrent-days", type=int, metavar="DAYS", help="delete a replaced save this many days later"
)
@click.option(
    "--keep",
    type=int,
    metavar="N",
    help="with --noncurrent-days: keep the N newest replaced saves of each notebook, "
    "whatever their age (1-100)",
)
@click.option("--remove", is_flag=True, help="remove bookstore's rule (other rules stay)")
@click.option("--dry-run", is_flag=True, help="show what would be set, change nothing")
@runs_prefix_option("executed notebooks, which the rule must not reach")
@pass_session
def retention(
    session: Session,
    noncurrent_days: int | None,
    keep: int | None,
    remove: bool,
    dry_run: bool,
    runs_prefix: str | None,
) -> None:
    from .. import retention as rules

    if remove and (noncurrent_days is not None or keep is not None):
        raise click.UsageError("--remove takes neither --noncurrent-days nor --keep")
    if keep is not None and noncurrent_days is None:
        raise click.UsageError("--keep needs --noncurrent-days (S3 requires both)")
    if noncurrent_days is not None:
        rules.check_retention(noncurrent_days, keep)
    scope = rules.scope_of(session.bookstore, runs_prefix or session.bookstore.runs_prefix)
    store = session.library.store
    current = store.lifecycle()
    action = ""
    if remove or noncurrent_days is not None:
        new_rule = None if remove else rules.workspace_rule(scope, noncurrent_days or 0, keep)
        wanted = rules.with_rule(current, scope, new_rule)
        changed = wanted != current
        if changed and not dry_run:
            store.set_lifecycle(wanted)
        verb = "removed" if remove else "set"
        action = (
            ("would be " if dry_run else "") + verb
            if changed
            else ("nothing to remove" if remove else "already set, nothing changed")
        )
        shown = wanted if dry_run or changed else current
    else:
        changed, shown = False, current
    answer = rules.describe(store, scope, shown)
    answer.update(changed=changed and not dry_run, dry_run=dry_run)
    session.emit(answer, lambda: output.retention_summary(answer, action))
