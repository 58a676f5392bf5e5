"""The subcommands: versions, publish, show, diff, restore, run, catalog and retention.

Each one parses its options, calls :class:`bookstore.library.Library` (or
:mod:`bookstore.compare`), and hands the answer to :mod:`bookstore.cli.output`. The common
options, the exit statuses and the error messages are the group's, in
:mod:`bookstore.cli`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..compare import diff_notebooks, format_diff, stored_side
from ..errors import BookstoreError, NotFoundError, VersionNotFoundError
from ..keys import validate_path
from ..library import (
    DEFAULT_PAGE_SIZE,
    PUBLISHED,
    STAGES,
    WORKSPACE,
    Library,
    describe,
    page_as_json,
    parse_limit,
    restore_candidates,
)
from ..notebooks import read as read_notebook
from ..notebooks import read_json
from ..runner import rerun, run_published
from ..runs import DEFAULT_PAGE_SIZE as RUNS_PAGE_SIZE
from ..runs import MAX_PAGE_SIZE as MAX_RUNS_PAGE_SIZE
from ..store import BATCH
from . import output
from .files import local_root, read_local, write_first_free, write_replacing, write_target
from .session import Session, logger_level, pass_session

PATH_HELP = "PATH is the notebook's path as in Jupyter, e.g. analysis/mine.ipynb."


def command(
    name: str, summary: str, details: str = PATH_HELP
) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand, whose ``summary`` is listed whole by ``bookstore --help``."""
    return click.command(name, short_help=summary, help=f"{summary}\n\n{details}")


stage_option = click.option(
    "--stage", type=click.Choice(STAGES), default=WORKSPACE, show_default=True, help="which history"
)
root_option = click.option(
    "--root-dir",
    metavar="DIR",
    envvar="BOOKSTORE_ROOT_DIR",
    help="the Jupyter root folder notebook paths are relative to (default: $BOOKSTORE_ROOT_DIR, "
    "otherwise the current folder)",
)


def existing_variants(library: Library, path: str, stage: str = WORKSPACE) -> list[str]:
    """Paths with versions in ``stage`` that ``path``, which has none, probably meant.

    People paste keys: the whole key (``published/kylek/notebooks/a.ipynb``) or an Airflow
    ``notebook_key`` (``kylek/notebooks/a.ipynb``, under the published root). Each way of
    reading ``path`` as a key that lands under the stage's prefix is tried.
    """
    prefix = library.prefix(stage)
    parts = prefix.split("/") if prefix else []
    found: list[str] = []
    for depth in range(len(parts)):
        head = "/".join(parts[:depth])
        key = f"{head}/{path}" if head else path
        if not key.startswith(prefix + "/"):
            continue
        candidate = key[len(prefix) + 1 :]
        try:
            validate_path(candidate)
            library.store.head(key)
        except BookstoreError:
            continue
        found.append(candidate)
    return found


def with_suggestion(
    error: NotFoundError, session: Session, name: str, path: str, stage: str
) -> NotFoundError:
    """``error``, with the command the user probably meant when ``path`` names a notebook
    with (part of) its key prefix in front, as an Airflow ``notebook_key`` does."""
    meant = existing_variants(session.library, path, stage)
    if not meant:
        return error
    option = f" --stage {stage}" if stage != WORKSPACE and name != "run" else ""
    return NotFoundError(f"{error}; did you mean `bookstore {name} {meant[0]}{option}`?")


@command("versions", "list the versions of a notebook, newest first")
@click.argument("path")
@stage_option
@click.option("--limit", type=int, default=DEFAULT_PAGE_SIZE, show_default=True, help="versions per page")
@click.option("--cursor", help="continue a listing where the previous page ended")
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
    # Recorded with the publication: the person at this terminal is the owner bookstore
    # resolves for {username} ($JUPYTERHUB_USER in a hub's terminal, else the OS login).
    by = session.bookstore.username
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
    entries = diff_notebooks(base, remote)
    answer = {"base": base, "diff": entries, "base_version": base_version, "remote_version": remote_version}
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


def _parameter_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@command(
    "run",
    "run a published notebook with papermill, as the Airflow operator does",
    "PATH is the published notebook, as in Jupyter and the other commands, e.g. "
    "analysis/mine.ipynb. Cell output goes to stderr as the notebook runs.",
)
@click.argument("path")
@click.option("--version-id", metavar="ID", help="the published version to run (default: the latest)")
# The name this option had before every command said --version-id.
@click.option("--version", "old_version_id", hidden=True)
@click.option(
    "-p",
    "--parameter",
    "parameters",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="a papermill parameter; VALUE is read as JSON when it parses (42, true, [1, 2]), else as text",
)
@click.option(
    "--output",
    "output_key",
    metavar="KEY",
    help="full S3 key for the executed notebook (default: <runs prefix>/manual/<time>-<id>/<name>)",
)
@click.option("--kernel", metavar="NAME", help="Jupyter kernel (default: the notebook's own)")
@click.option(
    "--published-prefix",
    metavar="PREFIX",
    help="run PATH under this key prefix instead of c.Bookstore.published_prefix; with "
    "'published', PATH is an Airflow notebook_key such as kylek/notebooks/analysis/mine.ipynb",
)
@click.option(
    "--runs-prefix",
    metavar="PREFIX",
    help="key prefix of the default --output (default: c.Bookstore.runs_prefix, 'runs')",
)
@pass_session
def run(
    session: Session,
    path: str,
    version_id: str | None,
    old_version_id: str | None,
    parameters: tuple[tuple[str, str], ...],
    output_key: str | None,
    kernel: str | None,
    published_prefix: str | None,
    runs_prefix: str | None,
) -> None:
    bookstore = session.bookstore
    store = bookstore.create_store(BATCH)
    if published_prefix:
        # PATH is a notebook key under this prefix, which is also what run records name.
        library = Library(
            store,
            published_prefix=published_prefix,
            runs_prefix=runs_prefix or bookstore.runs_prefix,
            published_root=published_prefix,
        )
    else:
        extra = {"runs_prefix": runs_prefix} if runs_prefix else {}
        library = Library.from_settings(bookstore, store, **extra)
    try:
        # Cell output is what a person running a notebook watches for; it goes to stderr.
        with logger_level("papermill", logging.INFO):
            result = run_published(
                library,
                path,
                version_id=version_id or old_version_id,
                parameters={name: _parameter_value(value) for name, value in parameters},
                output_key=output_key,
                kernel_name=kernel,
            )
    except NotFoundError as e:
        if isinstance(e, VersionNotFoundError) or published_prefix:
            raise
        raise with_suggestion(e, session, "run", path, PUBLISHED) from e
    session.emit(result.as_dict(), lambda: output.run_summary(result))


@command(
    "runs",
    "list the runs of a notebook's published versions, newest first",
    "PATH is the notebook, as in Jupyter and the other commands. Runs are read from their "
    "records in the bucket, written by the Airflow operator and by 'bookstore run'.",
)
@click.argument("path")
@click.option("--limit", type=int, default=RUNS_PAGE_SIZE, show_default=True, help="runs per page")
@click.option("--cursor", help="continue a listing where the previous page ended")
@pass_session
def runs(session: Session, path: str, limit: int, cursor: str | None) -> None:
    limit = parse_limit(limit, RUNS_PAGE_SIZE, MAX_RUNS_PAGE_SIZE)
    library = session.library
    page = library.runs.page(library.notebook_key(path), limit=limit, cursor=cursor)
    answer = {"path": path, "runs": [run.as_json() for run in page.runs], "next_cursor": page.next_cursor}
    session.emit(answer, lambda: output.run_listing(path, page.runs, page.next_cursor))


@command(
    "rerun",
    "run again what an executed notebook ran: the same published version, the same parameters",
    "OUTPUT_KEY is the S3 key of an executed notebook (an Airflow run's output_key, or what "
    "'bookstore run' printed); what it ran is read from its metadata. The new output key is "
    "printed. Cell output goes to stderr as the notebook runs.",
)
@click.argument("output_key")
@click.option("--version-id", metavar="ID", help="the version of OUTPUT_KEY to repeat (default: its latest)")
@click.option("--output", "new_output_key", metavar="KEY", help="full S3 key for the new executed notebook")
@click.option("--kernel", metavar="NAME", help="Jupyter kernel (default: the notebook's own)")
@pass_session
def rerun_command(
    session: Session, output_key: str, version_id: str | None, new_output_key: str | None, kernel: str | None
) -> None:
    bookstore = session.bookstore
    root, _ = bookstore.published_layout()
    library = Library(
        bookstore.create_store(BATCH),
        published_prefix=root,
        runs_prefix=bookstore.runs_prefix,
        published_root=root,
    )
    with logger_level("papermill", logging.INFO):
        result = rerun(
            library,
            validate_path(output_key),
            output_version_id=version_id,
            new_output_key=new_output_key,
            kernel_name=kernel,
        )
    session.emit(result.as_dict(), lambda: output.run_summary(result))


@command(
    "catalog",
    "list every user's published notebooks, the latest version of each",
    "Each notebook is named by its key relative to the published root (c.Bookstore."
    "published_root), as an Airflow task's notebook_key names it.",
)
@click.option("--limit", type=int, default=DEFAULT_PAGE_SIZE, show_default=True, help="notebooks per page")
@click.option("--cursor", help="continue a listing where the previous page ended")
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
@click.option(
    "--runs-prefix",
    metavar="PREFIX",
    help="key prefix of executed notebooks, which the rule must not reach "
    "(default: c.Bookstore.runs_prefix, 'runs')",
)
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
