"""The ``bookstore`` command: list, publish, show, compare, restore and run notebook versions.

It reads the same ``c.Bookstore...`` lines as Jupyter (``--config FILE``, or the file named
by ``$BOOKSTORE_CONFIG``); without a file, the bucket comes from ``$BOOKSTORE_S3_BUCKET`` and
the endpoint, region and credentials from the AWS environment and default chain.

Each subcommand is one function registered with :func:`command`; adding one is a separate,
small edit::

    def _my_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path")

    @command("mine", "one line of help", _my_arguments)
    def _mine(ctx: Context) -> int:
        ctx.emit({"path": ctx.args.path}, lambda: ctx.args.path)
        return 0
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from traitlets import TraitError
from traitlets.config import Config
from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

from ._version import __version__
from .compare import diff_notebooks, format_diff, stored_side
from .config import Bookstore
from .errors import (
    AlreadyExistsError,
    BookstoreError,
    FeatureUnavailableError,
    InvalidPathError,
    InvalidRequestError,
    MisconfiguredError,
    NotFoundError,
    StoreUnavailableError,
    VersionNotFoundError,
)
from .keys import validate_path
from .library import (
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
from .notebooks import read as read_notebook
from .notebooks import read_json
from .store import ObjectVersion, StoredObject

#: Error class -> exit status, most specific first.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidRequestError, 2),
    (NotFoundError, 3),
    (AlreadyExistsError, 4),
    (StoreUnavailableError, 5),
    (MisconfiguredError, 6),
    (FeatureUnavailableError, 7),
    (BookstoreError, 1),
    (OSError, 1),
)

EPILOG = """\
exit status: 0 success, 1 other failure, 2 bad input, 3 notebook or version not found,
4 target exists (restore without --overwrite), 5 S3 unavailable, 6 configuration or
credentials refused, 7 not installed here (diff needs nbdime: notebook-bookstore[jupyter]).
"""


# -- configuration -------------------------------------------------------------------------


def load_config(path: str | None) -> Config:
    """The traitlets config in ``path`` (a Jupyter ``.py`` or ``.json`` config file), or none."""
    if not path:
        return Config()
    file = Path(path).expanduser()
    if not file.is_file():
        raise MisconfiguredError(f"config file {path!r} does not exist")
    loader_class = JSONFileConfigLoader if file.suffix == ".json" else PyFileConfigLoader
    loader = loader_class(file.name, path=str(file.parent.absolute()))
    try:
        return loader.load_config()
    except BookstoreError:
        raise
    except Exception as e:  # a config file is user code: any error is theirs to fix
        raise MisconfiguredError(f"cannot load config file {path!r}: {type(e).__name__}: {e}") from e


def load_settings(path: str | None) -> Bookstore:
    """The ``c.Bookstore`` settings of the config file at ``path`` (and the environment)."""
    config = load_config(path)
    try:
        return Bookstore(config=config)
    except TraitError as e:
        raise MisconfiguredError(f"invalid setting in {path or 'the environment'}: {e}") from e


# -- the command table ---------------------------------------------------------------------


class Context:
    """What a subcommand gets: its arguments, the settings, and output helpers."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @cached_property
    def bookstore(self) -> Bookstore:
        return load_settings(self.args.config)

    @cached_property
    def library(self) -> Library:
        return Library.from_settings(self.bookstore)

    @property
    def root_dir(self) -> Path:
        given = getattr(self.args, "root_dir", None) or os.environ.get("BOOKSTORE_ROOT_DIR")
        return Path(given or os.getcwd()).absolute()

    def emit(self, data: Any, human: Callable[[], str]) -> None:
        """Print ``data`` as JSON with ``--json``, else the text ``human()`` makes for people."""
        if self.args.json:
            print(json.dumps(data, indent=2, default=str))
        else:
            print(human())


Arguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[Context], int]


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help, arguments and what it does."""

    name: str
    help: str
    arguments: Arguments
    run: Run


#: Subcommands in the order ``bookstore --help`` lists them.
COMMANDS: dict[str, Command] = {}


def command(name: str, help_text: str, arguments: Arguments) -> Callable[[Run], Run]:
    """Register a subcommand: ``arguments`` adds its options, the decorated function runs it."""

    def register(run: Run) -> Run:
        COMMANDS[name] = Command(name, help_text, arguments, run)
        return run

    return register


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        default=os.environ.get("BOOKSTORE_CONFIG"),
        help="Jupyter config file with the c.Bookstore... settings (default: $BOOKSTORE_CONFIG; "
        "otherwise $BOOKSTORE_S3_BUCKET and the AWS environment)",
    )
    common.add_argument("--json", action="store_true", help="print JSON for scripts instead of tables")
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="bookstore",
        description="List, publish, show and restore versions of notebooks archived to versioned S3.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"bookstore {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common_options()
    for entry in COMMANDS.values():
        sub = subparsers.add_parser(
            entry.name, help=entry.help, description=entry.help, parents=[common], epilog=EPILOG
        )
        entry.arguments(sub)
        sub.set_defaults(run=entry.run)
    return parser


def exit_code(error: BaseException) -> int:
    return next((code for cls, code in EXIT_CODES if isinstance(error, cls)), 1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bookstore`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="bookstore: %(levelname)s: %(message)s",
    )
    try:
        return int(args.run(Context(args)))
    except (BookstoreError, OSError) as e:
        print(f"bookstore: error: {_one_line(e)}", file=sys.stderr)
        return exit_code(e)
    except KeyboardInterrupt:
        return 130


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# -- formatting ----------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns aligned under ``headers``."""
    cells = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


#: A save reaching S3 this much later than it was made was held back (S3 was unreachable):
#: the listing then shows when it was uploaded, too.
LATE_UPLOAD_SECONDS = 60


def _uploaded_late(version: ObjectVersion) -> bool:
    saved = version.saved_at
    return saved is not None and (version.last_modified - saved).total_seconds() >= LATE_UPLOAD_SECONDS


def _versions_table(versions: Sequence[ObjectVersion], stage: str) -> str:
    header: tuple[str, ...] = ("VERSION ID", "PUBLISHED" if stage == PUBLISHED else "SAVED", "SIZE", "LATEST")
    rows: list[tuple[str, ...]] = [
        (
            v.version_id or "null",
            _when(v.saved_at or v.last_modified),
            str(v.size),
            "*" if v.is_latest else "",
        )
        for v in versions
    ]
    if any(map(_uploaded_late, versions)):
        header += ("UPLOADED",)
        rows = [
            (*row, _when(v.last_modified) if _uploaded_late(v) else "")
            for row, v in zip(rows, versions, strict=True)
        ]
    if stage == PUBLISHED:
        # Which save each publication copied: the workspace version to restore or compare.
        header += ("PUBLISHED FROM",)
        rows = [(*row, v.source_version_id or "") for row, v in zip(rows, versions, strict=True)]
    return format_table(header, rows)


def _describe_notebook(stored: StoredObject, content: dict[str, Any]) -> str:
    info = stored.info
    kernel = content.get("metadata", {}).get("kernelspec", {}).get("name")
    cells = len(content.get("cells", []))
    summary = f"{info.size} bytes, {cells} cell{'' if cells == 1 else 's'}"
    lines = [
        f"key       {info.key}",
        f"version   {info.version_id or 'null'}",
        f"modified  {_when(info.last_modified)}",
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


# -- local files ---------------------------------------------------------------------------


def local_notebook(root: Path, path: str) -> tuple[str, Path]:
    """The Jupyter path and the file of ``path`` (relative to ``root``, or absolute inside it)."""
    full = Path(os.path.normpath(root / path))
    try:
        relative = full.relative_to(root)
    except ValueError as e:
        raise InvalidPathError(f"{path!r} is outside the root dir {str(root)!r}; pass --root-dir") from e
    return validate_path(relative.as_posix()), full


def read_local(root: Path, path: str, hint: str = "check the path and --root-dir") -> tuple[str, Path, bytes]:
    """The Jupyter path, file and bytes of the local notebook ``path`` (see :func:`local_notebook`)."""
    jupyter_path, file = local_notebook(root, path)
    try:
        return jupyter_path, file, file.read_bytes()
    except FileNotFoundError as e:
        raise NotFoundError(f"{str(file)!r} does not exist; {hint}") from e


def write_new(file: Path, body: bytes) -> None:
    """Write ``body`` to ``file``, failing with :class:`FileExistsError` if it exists."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "xb") as f:
        f.write(body)


def write_replacing(file: Path, body: bytes) -> None:
    """Write ``body`` to ``file`` in one step (a reader never sees half a notebook)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(temp, file)
    except BaseException:
        os.unlink(temp)
        raise


# -- subcommands ---------------------------------------------------------------------------


def _stage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stage", choices=STAGES, default=WORKSPACE, help="which history (default: %(default)s)"
    )


def _root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root-dir",
        metavar="DIR",
        help="the Jupyter root folder notebook paths are relative to (default: $BOOKSTORE_ROOT_DIR, "
        "otherwise the current folder)",
    )


def _with_suggestion(
    error: NotFoundError, ctx: Context, command_name: str, path: str, stage: str
) -> NotFoundError:
    """``error``, with the command the user probably meant when ``path`` names a notebook
    with (part of) its key prefix in front, as an Airflow ``notebook_key`` does."""
    meant = ctx.library.existing_variants(path, stage)
    if not meant:
        return error
    stage_option = f" --stage {stage}" if stage != WORKSPACE and command_name != "run" else ""
    return NotFoundError(f"{error}; did you mean `bookstore {command_name} {meant[0]}{stage_option}`?")


def _versions_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="notebook path as in Jupyter, e.g. analysis/mine.ipynb")
    _stage_option(parser)
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_PAGE_SIZE, help="versions per page (default: %(default)s)"
    )
    parser.add_argument("--cursor", help="continue a listing where the previous page ended")
    parser.add_argument("--all", action="store_true", help="list every version, page after page")


@command("versions", "list the versions of a notebook, newest first", _versions_arguments)
def _versions(ctx: Context) -> int:
    args = ctx.args
    limit = parse_limit(args.limit)
    library = ctx.library
    key = library.key(args.path, args.stage)
    try:
        page = library.versions(args.path, args.stage, limit=limit, cursor=args.cursor)
    except NotFoundError as e:
        raise _with_suggestion(e, ctx, "versions", args.path, args.stage) from e
    versions = list(page.versions)
    while args.all and page.next_cursor:
        page = library.versions(args.path, args.stage, limit=limit, cursor=page.next_cursor)
        versions += page.versions
    answer = page_as_json(key, args.stage, page)
    answer["versions"] = [v.as_json() for v in versions]

    def human() -> str:
        text = f"{args.stage} versions of {key}\n" + _versions_table(versions, args.stage)
        if page.next_cursor:
            text += (
                f"\n\nmore: bookstore versions {args.path} --stage {args.stage} --cursor {page.next_cursor}"
            )
        return text

    ctx.emit(answer, human)
    return 0


def _publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="notebook path relative to --root-dir, e.g. analysis/mine.ipynb")
    parser.add_argument(
        "--version-id",
        help="publish this workspace version instead of the local file (which then need not exist)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="publish even when the content is already the latest published version",
    )
    _root_option(parser)


@command("publish", "publish a local notebook, or one of its workspace versions", _publish_arguments)
def _publish(ctx: Context) -> int:
    args = ctx.args
    if args.version_id:
        published = ctx.library.publish_version(validate_path(args.path), args.version_id, force=args.force)
    else:
        path, _, body = read_local(ctx.root_dir, args.path)
        published = ctx.library.publish_saved(path, body, force=args.force)

    def human() -> str:
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

    ctx.emit(published.as_json(), human)
    return 0


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="notebook path as in Jupyter, e.g. analysis/mine.ipynb")
    _stage_option(parser)
    parser.add_argument("--version-id", help="which version (default: the latest)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the notebook to FILE as stored")


@command("show", "print one version of a notebook (--json: the notebook itself)", _show_arguments)
def _show(ctx: Context) -> int:
    args = ctx.args
    try:
        stored = ctx.library.read(validate_path(args.path), args.stage, args.version_id)
    except NotFoundError as e:
        if isinstance(e, VersionNotFoundError):
            raise
        raise _with_suggestion(e, ctx, "show", args.path, args.stage) from e
    if args.output:
        write_replacing(Path(args.output), stored.body)
        info = stored.info
        print(f"wrote {args.output} ({info.size} bytes) from {info.key} version {info.version_id}")
    elif args.json:
        sys.stdout.buffer.write(stored.body)
        sys.stdout.buffer.flush()
    else:
        print(_describe_notebook(stored, read_json(stored.body, describe(stored))))
    return 0


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="notebook path as in Jupyter, e.g. analysis/mine.ipynb")
    _stage_option(parser)
    parser.add_argument("--version-id", help="the version to compare (default: the stage's latest)")
    parser.add_argument(
        "--remote-stage",
        choices=STAGES,
        help="compare with a stored version of this stage (its latest without --remote-version-id) "
        "instead of the local file",
    )
    parser.add_argument(
        "--remote-version-id", help="compare with this stored version (of --remote-stage, default workspace)"
    )
    _root_option(parser)


@command("diff", "compare a version with the local notebook or another version (nbdime)", _diff_arguments)
def _diff(ctx: Context) -> int:
    args = ctx.args
    path = validate_path(args.path)

    base, base_version = stored_side(ctx.library, path, args.stage, args.version_id)
    if args.remote_stage is None and args.remote_version_id is None:
        _, file, body = read_local(
            ctx.root_dir,
            args.path,
            "check the path and --root-dir, or compare two stored versions with --remote-stage "
            "and --remote-version-id",
        )
        remote = read_notebook(body, str(file))
        remote_version: dict[str, Any] = {"stage": None, "path": path, "file": str(file), "version_id": None}
        remote_name = str(file)
    else:
        stage = args.remote_stage or WORKSPACE
        remote, remote_version = stored_side(ctx.library, path, stage, args.remote_version_id)
        remote_name = f"{remote_version['key']} version {remote_version['version_id']}"
    diff = diff_notebooks(base, remote)
    answer = {"base": base, "diff": diff, "base_version": base_version, "remote_version": remote_version}

    def human() -> str:
        head = f"--- {base_version['key']} version {base_version['version_id']}\n+++ {remote_name}"
        if not diff:
            return f"{head}\nno differences"
        return f"{head}\n{format_diff(base, diff, color=sys.stdout.isatty()).rstrip()}"

    ctx.emit(answer, human)
    return 0


def _restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="notebook path as in Jupyter, e.g. analysis/mine.ipynb")
    _stage_option(parser)
    parser.add_argument("--version-id", required=True, help="the version to restore")
    parser.add_argument(
        "--target",
        metavar="PATH",
        help="where to write it, relative to --root-dir (default: a new file next to PATH, "
        "e.g. mine-restored.ipynb)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --target if it exists")
    _root_option(parser)


@command("restore", "write one version of a notebook into a local file", _restore_arguments)
def _restore(ctx: Context) -> int:
    args = ctx.args
    path = validate_path(args.path)
    stored, _ = ctx.library.read_notebook(path, args.stage, args.version_id)
    root = ctx.root_dir
    target: str | None = None
    if args.target:
        target, file = local_notebook(root, args.target)
        if args.overwrite:
            write_replacing(file, stored.body)
        else:
            try:
                write_new(file, stored.body)
            except FileExistsError as e:
                raise AlreadyExistsError(f"{target!r} already exists: pass --overwrite to replace it") from e
    else:
        for candidate in restore_candidates(path):
            target, file = local_notebook(root, candidate)
            try:
                write_new(file, stored.body)
                break
            except FileExistsError:
                continue
    answer = {
        "path": target,
        "file": str(file),
        "key": stored.info.key,
        "version_id": stored.info.version_id,
        "size": stored.info.size,
    }
    ctx.emit(answer, lambda: f"restored {stored.info.key} version {stored.info.version_id} to {target}")
    return 0


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    from .config import DEFAULT_RUNS_PREFIX

    parser.add_argument(
        "path",
        metavar="PATH",
        help="the published notebook, as in Jupyter and the other commands, e.g. analysis/mine.ipynb",
    )
    parser.add_argument(
        "--version-id", metavar="ID", help="the published version to run (default: the latest)"
    )
    # The name this option had before every command said --version-id.
    parser.add_argument("--version", dest="version_id", help=argparse.SUPPRESS)
    parser.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a papermill parameter; VALUE is read as JSON when it parses (42, true, [1, 2]), else as text",
    )
    parser.add_argument(
        "--output",
        metavar="KEY",
        help="full S3 key for the executed notebook (default: <runs prefix>/manual/<time>-<id>/<name>)",
    )
    parser.add_argument("--kernel", metavar="NAME", help="Jupyter kernel (default: the notebook's own)")
    parser.add_argument(
        "--published-prefix",
        metavar="PREFIX",
        help="run PATH under this key prefix instead of c.Bookstore.published_prefix; with "
        "'published', PATH is an Airflow notebook_key such as kylek/notebooks/analysis/mine.ipynb",
    )
    parser.add_argument(
        "--runs-prefix",
        default=DEFAULT_RUNS_PREFIX,
        metavar="PREFIX",
        help="key prefix of the default --output (default: %(default)s)",
    )


def _parameter_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@command("run", "run a published notebook with papermill, as the Airflow operator does", _run_arguments)
def _run(ctx: Context) -> int:
    from .runner import run_published
    from .store import BATCH

    args = ctx.args
    # Cell output is what a person running a notebook watches for; it goes to stderr.
    logging.getLogger("papermill").setLevel(logging.INFO)
    bookstore = ctx.bookstore
    library = Library(
        bookstore.create_store(BATCH),
        published_prefix=args.published_prefix or bookstore.published_prefix,
        runs_prefix=args.runs_prefix,
    )
    try:
        result = run_published(
            library,
            args.path,
            version_id=args.version_id,
            parameters={name: _parameter_value(value) for name, value in args.parameters},
            output_key=args.output,
            kernel_name=args.kernel,
        )
    except NotFoundError as e:
        if isinstance(e, VersionNotFoundError) or args.published_prefix:
            raise
        raise _with_suggestion(e, ctx, "run", args.path, PUBLISHED) from e

    def human() -> str:
        return "\n".join(
            [
                f"ran {result.source_key}",
                f"  source_version_id  {result.source_version_id}",
                f"  parameters         {json.dumps(result.parameters, default=str)}",
                f"  output_key         {result.output_key}",
                f"  output_version_id  {result.output_version_id}",
            ]
        )

    ctx.emit(result.as_dict(), human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
