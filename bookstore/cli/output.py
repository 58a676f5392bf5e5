"""What the ``bookstore`` command prints: tables and summaries for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from ..errors import BookstoreError
from ..library import PUBLISHED
from ..runs import QUEUED
from ..schedules import schedule_from_json

if TYPE_CHECKING:
    from ..catalog import CatalogEntry
    from ..parameters import NotebookParameters
    from ..publishing import Published
    from ..runner import RunResult
    from ..runs import RunRecord
    from ..store import ObjectVersion, StoredObject

#: A save reaching S3 this much later than it was made was held back (S3 was unreachable):
#: the listing then shows when it was uploaded, too.
LATE_UPLOAD_SECONDS = 60


def emit(data: Any, human: Callable[[], str], *, as_json: bool) -> None:
    """Print ``data`` as JSON with ``--json``, else the text ``human()`` makes for people."""
    click.echo(json.dumps(data, indent=2, default=str) if as_json else human())


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns aligned under ``headers``."""
    cells = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _uploaded_late(version: ObjectVersion) -> bool:
    saved = version.saved_at
    return saved is not None and (version.last_modified - saved).total_seconds() >= LATE_UPLOAD_SECONDS


def versions_table(versions: Sequence[ObjectVersion], stage: str) -> str:
    """The versions of one stage, newest first, as ``bookstore versions`` prints them."""
    header: tuple[str, ...] = ("VERSION ID", "PUBLISHED" if stage == PUBLISHED else "SAVED", "SIZE", "LATEST")
    rows: list[tuple[str, ...]] = [
        (
            v.version_id or "null",
            when(v.saved_at or v.last_modified),
            str(v.size),
            "*" if v.is_latest else "",
        )
        for v in versions
    ]
    if any(map(_uploaded_late, versions)):
        header += ("UPLOADED",)
        rows = [
            (*row, when(v.last_modified) if _uploaded_late(v) else "")
            for row, v in zip(rows, versions, strict=True)
        ]
    if stage == PUBLISHED:
        # Which save each publication copied: the workspace version to restore or compare.
        header += ("PUBLISHED FROM",)
        rows = [(*row, v.source_version_id or "") for row, v in zip(rows, versions, strict=True)]
    return format_table(header, rows)


def versions_listing(
    key: str, path: str, stage: str, versions: Sequence[ObjectVersion], next_cursor: str | None
) -> str:
    """The table of versions under its heading, and how to ask for the next page."""
    text = f"{stage} versions of {key}\n" + versions_table(versions, stage)
    if next_cursor:
        text += f"\n\nmore: bookstore versions {path} --stage {stage} --cursor {next_cursor}"
    return text


def catalog_listing(root: str, entries: Sequence[CatalogEntry], next_cursor: str | None) -> str:
    """The published notebooks under ``root``, and how to ask for the next page."""
    where = f"{root}/" if root else "the bucket"
    if not entries and not next_cursor:
        return f"no published notebooks under {where}"
    rows = [
        (
            entry.notebook_key,
            entry.owner or "",
            entry.version_id or "?",
            when(entry.last_modified),
            str(entry.size),
            entry.published_by or "",
        )
        for entry in entries
    ]
    text = f"published notebooks under {where}\n" + format_table(
        ("NOTEBOOK KEY", "OWNER", "VERSION ID", "PUBLISHED", "SIZE", "BY"), rows
    )
    if next_cursor:
        text += f"\n\nmore: bookstore catalog --cursor {next_cursor}"
    return text


def run_listing(path: str, runs: Sequence[RunRecord], next_cursor: str | None) -> str:
    """The runs of ``path``'s published versions, newest first, and how to ask for more."""
    if not runs and not next_cursor:
        return f"no runs of {path} yet: runs appear when a published version runs (Airflow, bookstore run)"
    rows = []
    for run in runs:
        airflow = run.airflow or {}
        if airflow.get("dag_id"):
            by = f"{airflow['dag_id']}.{airflow['task_id']}"
        elif run.request_id:  # asked for, Airflow has not started it yet
            by = "requested" + (f" by {run.requested_by}" if run.requested_by else "")
        else:
            by = "bookstore run"
        if run.request_id:
            by += f" (request {run.request_id})"
        rows.append(
            (
                when(run.started_at),
                run.status + (f": {run.error}" if run.error else ""),
                run.source_version_id or ("latest" if run.status == QUEUED else "?"),
                json.dumps(run.parameters, default=str),
                by + (" (on publish)" if run.published_event else ""),
                run.output_key or "-",
            )
        )
    text = f"runs of {path}\n" + format_table(
        ("STARTED", "STATUS", "VERSION ID", "PARAMETERS", "BY", "OUTPUT KEY"), rows
    )
    if next_cursor:
        text += f"\n\nmore: bookstore runs {path} --cursor {next_cursor}"
    return text


def describe_notebook(stored: StoredObject, content: dict[str, Any]) -> str:
    """One stored version: where it is, its size and kernel, then each cell with its outputs."""
    info = stored.info
    kernel = content.get("metadata", {}).get("kernelspec", {}).get("name")
    cells = len(content.get("cells", []))
    summary = f"{info.size} bytes, {cells} cell{'' if cells == 1 else 's'}"
    lines = [
        f"key       {info.key}",
        f"version   {info.version_id or 'null'}",
        f"modified  {when(info.last_modified)}",
        f"size      {summary}" + (f", kernel {kernel}" if kernel else ""),
    ]
    for number, cell in enumerate(content.get("cells", []), 1):
        lines += ["", f"[{number}] {cell.get('cell_type', '?')}", _text(cell.get("source", ""))]
        outputs = [_describe_output(output) for output in cell.get("outputs", [])]
        if outputs:
            lines += ["--- output ---", *outputs]
    return "\n".join(lines)


def _text(value: Any) -> str:
    """Notebook text, stored as one string or a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value)


def _describe_output(output: dict[str, Any]) -> str:
    """One cell output as a terminal can show it: text as it is, other media named."""
    kind = output.get("output_type")
    if kind == "stream":
        return _text(output.get("text", "")).rstrip("\n")
    if kind == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    data = output.get("data", {})
    if "text/plain" in data:
        return _text(data["text/plain"]).rstrip("\n")
    return ", ".join(f"[{mime}]" for mime in data) or f"[{kind}]"


def publish_summary(published: Published) -> str:
    """What ``bookstore publish`` published, or that the content already was."""
    if published.unchanged:
        head = (
            f"{published.path} is already published as version {published.version_id}: nothing new "
            "was published (--force publishes it again)"
        )
    else:
        head = f"published {published.path}"
    return "\n".join(
        [
            head,
            f"  key                {published.key}",
            f"  version_id         {published.version_id}",
            f"  source_key         {published.source_key}",
            f"  source_version_id  {published.source_version_id}",
        ]
    )


def diff_text(base_name: str, remote_name: str, diff_lines: str | None) -> str:
    """The two sides' names, then nbdime's diff (None: the two are the same)."""
    head = f"--- {base_name}\n+++ {remote_name}"
    return f"{head}\nno differences" if diff_lines is None else f"{head}\n{diff_lines.rstrip()}"


def run_summary(result: RunResult) -> str:
    """Which version ``bookstore run`` ran, with which parameters, and where its output is."""
    return "\n".join(
        [
            f"ran {result.source_key}",
            f"  source_version_id  {result.source_version_id}",
            f"  parameters         {json.dumps(result.parameters, default=str)}",
            f"  output_key         {result.output_key}",
            f"  output_version_id  {result.output_version_id}",
        ]
    )


def parameters_listing(what: str, declared: NotebookParameters) -> str:
    """What a notebook declares as parameters, or which cell to tag."""
    if declared.cell is None:
        lines = [f"{what} has no cell tagged 'parameters': a run given parameters is refused."]
        if declared.untagged_cell is not None:
            names = ", ".join(p.name for p in declared.untagged_parameters)
            lines.append(
                f"Cell {declared.untagged_cell + 1} assigns {names}: tag it 'parameters' to declare them."
            )
        return "\n".join(lines)
    head = f"parameters of {what} (cell {declared.cell + 1})"
    if not declared.inspectable:
        return f"{head}: papermill cannot read {declared.language} assignments; any name is passed on"
    if not declared.parameters:
        return f"{head}: none"
    rows = [(p.name, p.type or "", p.default, p.help) for p in declared.parameters]
    return f"{head}\n" + format_table(["NAME", "TYPE", "DEFAULT", "HELP"], rows)


def retention_summary(answer: dict[str, Any], action: str) -> str:
    """The bucket's retention of noncurrent workspace versions, as ``bookstore retention``
    shows it (``action``: what was done, or would be with --dry-run)."""
    prefix = answer["workspace_prefix"]
    rule = answer["rule"]
    lines = [f"bucket {answer['bucket']}, saves under {prefix}"]
    if action:
        lines.append(action)
    if rule is None:
        lines.append("  no retention rule: every save is kept for ever (the bucket bills each one)")
    else:
        keep = rule["keep"]
        state = "" if rule["enabled"] else " (disabled)"
        lines += [
            f"  rule {rule['id']}{state}",
            f"  a save replaced by a newer one is deleted {rule['noncurrent_days']} days later"
            + (f", except the {keep} newest of them" if keep else ""),
            "  each notebook's latest save, its publications and runs are never deleted by it",
        ]
    others = answer["other_rules"]
    if others:
        lines += ["", "other lifecycle rules of the bucket (kept as they are):"]
        rows = [
            (
                rule["id"] or "(no id)",
                "enabled" if rule["enabled"] else "disabled",
                rule["prefix"] or "(every key)",
                ", ".join(rule["actions"]),
            )
            for rule in others
        ]
        lines.append(format_table(("ID", "STATUS", "PREFIX", "ACTIONS"), rows))
        for rule in others:
            if rule["reaches"]:
                name = rule["id"] or "(no id)"
                lines.append(
                    f"note: rule {name!r} also applies to {' and '.join(rule['reaches'])} keys"
                    + (" (those matching its tags or sizes)" if rule["conditional"] else "")
                )
    return "\n".join(lines)


# -- schedules and run requests -------------------------------------------------------------


def _next_run(moment: str, timezone: str) -> str:
    """A next run time from an answer (ISO 8601) in the schedule's zone, named (CET, EDT)."""
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _runs_which(version_id: str | None, latest: str = "latest") -> str:
    return f"pinned {version_id}" if version_id else latest


def schedule_summary(answer: dict[str, Any]) -> str:
    """A schedule as ``bookstore schedule`` answers it: in words, its DAG and next run times."""
    if answer["next_runs"]:
        upcoming = ", ".join(_next_run(moment, answer["timezone"]) for moment in answer["next_runs"])
    elif not answer["enabled"]:
        upcoming = "none while disabled (--enable runs it again)"
    else:
        upcoming = "at each publication"
    parameters = json.dumps(answer["parameters"])
    if answer["force_parameters"]:
        parameters += " (accepted without the notebook declaring them)"
    timeout = answer["timeout"]
    return "\n".join(
        [
            f"{'created' if answer.get('created') else 'changed'} schedule {answer['name']!r} of "
            f"{answer['notebook_key']}",
            f"  when        {answer['description']}",
            f"  version     {_runs_which(answer['version_id'], 'the latest published when each run starts')}",
            f"  parameters  {parameters}",
            f"  retries     {answer['retries']}",
            f"  timeout     {f'{timeout} minutes' if timeout else 'none'}",
            f"  notify      {', '.join(answer['notify']) or 'nobody'}",
            f"  dag_id      {answer['dag_id']}",
            f"  next runs   {upcoming}",
        ]
    )


def schedules_listing(answer: dict[str, Any], path: str | None = None) -> str:
    """The schedules of the notebook at ``path`` (or, without it, the team's), then the
    documents that cannot be read."""
    listed = [entry for entry in answer["schedules"] if "error" not in entry]
    malformed = [entry for entry in answer["schedules"] if "error" in entry]
    where = answer["notebook_key"] if path else f"{answer['schedules_root']}/"
    if not listed and not malformed:
        if path:
            return f"no schedules of {path}: 'bookstore schedule {path} NAME --cron \"0 6 * * *\"' makes one"
        return f"no schedules under {where}"
    lines = [f"schedules {'of' if path else 'under'} {where}"]
    if listed:
        header: tuple[str, ...] = ("NAME", "WHEN", "NEXT RUN", "VERSION", "PARAMETERS", "DAG ID")
        rows: list[tuple[str, ...]] = [
            (
                entry["name"],
                entry["description"],
                _next_run(entry["next_runs"][0], entry["timezone"]) if entry["next_runs"] else "-",
                _runs_which(entry["version_id"]),
                json.dumps(entry["parameters"]),
                entry["dag_id"],
            )
            for entry in listed
        ]
        if not path:
            header = ("NOTEBOOK KEY", *header)
            rows = [(entry["notebook_key"], *row) for entry, row in zip(listed, rows, strict=True)]
        lines.append(format_table(header, rows))
    if malformed:
        lines += ["", "malformed schedule documents (Airflow skips them):"]
        # The message names the document, most often; otherwise it is named here.
        lines += [
            f"  {entry['error']}" if entry["key"] in entry["error"] else f"  {entry['key']}: {entry['error']}"
            for entry in malformed
        ]
        if path:
            lines.append(f"  remove one: bookstore unschedule {path} NAME (NAME.json is its file name)")
    return "\n".join(lines)


def schedule_history(answer: dict[str, Any]) -> str:
    """Every stored version of one schedule, newest first: when it changed, by whom, to what."""
    rows = []
    for change in answer["history"]:
        document = change["document"]
        try:
            schedule = schedule_from_json(document, change["version_id"])
            what = schedule.describe()
            runs, parameters = _runs_which(schedule.version_id), json.dumps(schedule.parameters)
        except BookstoreError:
            what, runs, parameters = "(malformed)", "", ""
        by = document.get("updated_by") if isinstance(document, dict) else None
        rows.append(
            (
                when(datetime.fromisoformat(change["last_modified"])),
                by or "",
                what,
                runs,
                parameters,
                change["version_id"] or "null",
            )
        )
    head = f"changes of schedule {answer['name']!r} of {answer['notebook_key']}, newest first"
    table = format_table(("CHANGED", "BY", "WHEN", "VERSION", "PARAMETERS", "DOCUMENT VERSION ID"), rows)
    return f"{head}\n{table}"


def run_request_summary(record: RunRecord, path: str) -> str:
    """The run ``bookstore run --on-airflow`` asked for, and how to follow it."""
    return "\n".join(
        [
            f"asked Airflow to run {record.source_key}",
            f"  request_id  {record.request_id}",
            f"  version     {_runs_which(record.source_version_id, 'the latest published when it starts')}",
            f"  parameters  {json.dumps(record.parameters, default=str)}",
            f"queued: Airflow's watcher on run requests starts it; follow it with: bookstore runs {path}",
        ]
    )
