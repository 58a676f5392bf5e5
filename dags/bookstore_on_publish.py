"""Run a notebook each time it is published, at exactly the version published.

The DAG is scheduled on the published notebook as an Airflow Asset: its watcher (in
Airflow's triggerer) sees each new published version within seconds, and each publication
starts one DAG run, whether it was published from JupyterLab, the ``bookstore`` command or
another Jupyter server. The task runs the version whose publication started the run, never
a newer one published meanwhile, and updates the notebook's *executed* asset with the
run's lineage, which other DAGs can be scheduled on in turn.

Needs the ``bookstore_default`` connection (see ``bookstore.airflow.hooks.BookstoreHook``),
also where DAG files are parsed: the assets name its bucket.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG

from bookstore.airflow.assets import executed_notebook_asset, published_notebook_asset
from bookstore.airflow.operators import PublishedNotebookOperator

# The notebook (its key under the published root); `make run` names its sample notebook here.
NOTEBOOK = os.environ.get("BOOKSTORE_ON_PUBLISH_NOTEBOOK_KEY", "kylek/notebooks/analysis/mine.ipynb")

with DAG(
    dag_id="bookstore_on_publish",
    description="Run a notebook at each publication, at the version published",
    schedule=[published_notebook_asset(NOTEBOOK)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # Publishing is the switch: the DAG runs without anyone unpausing it first.
    is_paused_upon_creation=False,
    # One run at a time: publications run in the order they were made.
    max_active_runs=1,
    tags=["bookstore"],
):
    # No parameters: each publication runs with the notebook's own defaults, so what its author
    # just wrote in the parameters cell is what the run shows.
    PublishedNotebookOperator(
        task_id="run_notebook",
        notebook_key=NOTEBOOK,
        outlets=[executed_notebook_asset(NOTEBOOK)],
    )
