"""DAGs that tests write and run with ``dag.test()``, and what their tasks returned.

Airflow reads its configuration when it is first imported, so these functions import it
only when called, after the ``airflow_home`` fixture has pointed it at a temporary home.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any


def load_dag(home: Path, dag_id: str, tasks: str, retries: int = 0) -> Any:
    """A DAG file in the DAGs folder of ``home`` (``dag.test()`` needs the DAG in a bundle):
    a DAG ``dag_id`` whose body is ``tasks``, Python that may use ``PublishedNotebookOperator``."""
    from airflow.dag_processing.dagbag import DagBag

    path = home / "dags" / f"{dag_id}.py"
    body = textwrap.indent(textwrap.dedent(tasks).strip(), " " * 4)
    path.write_text(
        "from datetime import timedelta\n"
        "from airflow.sdk import DAG\n"
        "from bookstore.airflow.operators import PublishedNotebookOperator\n\n"
        f"with DAG({dag_id!r}, schedule=None, default_args={{\n"
        f'        "retries": {retries}, "retry_delay": timedelta(seconds=1)}}):\n'
        f"{body}\n"
    )
    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def write_dag(home: Path, dag_id: str, retries: int = 0, **operator_kwargs: Any) -> Any:
    """A one-task DAG: ``PublishedNotebookOperator(task_id="run", **operator_kwargs)``."""
    return load_dag(home, dag_id, f'PublishedNotebookOperator(task_id="run", **{operator_kwargs!r})', retries)


def xcoms(dag_run: Any, task_id: str) -> dict[str, Any]:
    """The XComs a task of ``dag_run`` pushed, by key (``return_value``: what it returned)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
            )
        )
        return {row.key: XComModel.deserialize_value(row) for row in rows}
