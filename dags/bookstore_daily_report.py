"""Run a published notebook every day, at its latest published version.

Each run resolves the newest version of the notebook when it starts and records it (in the
task's XCom and in the executed notebook's S3 metadata), so the history shows which version
ran on which day. The notebook receives the run's date as the ``run_date`` parameter.

Needs the ``bookstore_default`` connection (see ``bookstore.airflow.hooks.BookstoreHook``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from bookstore.airflow.operators import PublishedNotebookOperator

# Manual runs in Airflow 3 may have no logical date; fall back to when the run was due.
RUN_DATE = "{{ (logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="bookstore_daily_report",
    description="Daily run of a published notebook at its latest version",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["bookstore"],
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=5)},
):
    PublishedNotebookOperator(
        task_id="report",
        notebook_key="kylek/notebooks/analysis/mine.ipynb",
        version_id=None,
        parameters={"run_date": RUN_DATE, "x": 21},
    )
