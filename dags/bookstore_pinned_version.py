"""Run one published notebook version, chosen in the trigger form.

Trigger it from the UI ("Trigger DAG" shows the form) or the CLI, e.g.
``airflow dags trigger bookstore_pinned_version --conf '{"version_id": "<S3 version id>"}'``.
Leave ``version_id`` empty to run the latest published version. The version ids of a
notebook are listed by ``bookstore versions`` and the Jupyter extension's versions API.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from bookstore.airflow.operators import PublishedNotebookOperator

with DAG(
    dag_id="bookstore_pinned_version",
    description="Run a published notebook at a version id given when triggering",
    schedule=None,
    tags=["bookstore"],
    params={
        "notebook_key": Param(
            "kylek/notebooks/analysis/mine.ipynb",
            type="string",
            minLength=1,
            title="Notebook",
            description="Path of the notebook under the published prefix.",
        ),
        "version_id": Param(
            None,
            type=["null", "string"],
            title="Version id",
            description="S3 version id of the published notebook to run; empty runs the latest.",
        ),
        "parameters": Param(
            {"x": 21},
            type="object",
            title="Parameters",
            description="papermill parameters, as a JSON object.",
        ),
    },
):
    PublishedNotebookOperator(
        task_id="run_notebook",
        notebook_key="{{ params.notebook_key }}",
        version_id="{{ params.version_id or '' }}",
        parameters="{{ params.parameters | tojson }}",
    )
