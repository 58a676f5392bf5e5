"""Every schedule kept in the bookstore bucket, as a DAG: schedules written from Jupyter.

A data scientist schedules a published notebook from JupyterLab (Schedule…) or with
``bookstore schedule``; the schedule is a JSON document in the bucket, under the connection's
``schedules_root`` (default ``schedules``). This file lists those documents through the
``bookstore_default`` connection and builds one DAG per schedule (its ``dag_id`` is shown in
Jupyter), plus ``bookstore_run_requests``, which carries out "Run now". Nobody writes a DAG
file per notebook: adding, changing, disabling or removing a schedule shows here at the next
parse of this file.

When S3 or the connection fails during a parse, the DAGs rendered the last time stay (from a
cache under ``$AIRFLOW_HOME/bookstore``) and the failure is logged.
"""

from __future__ import annotations

from bookstore.airflow.schedules import schedule_dags

globals().update(schedule_dags("bookstore_default"))
