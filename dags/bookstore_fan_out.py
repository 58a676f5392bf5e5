"""Run one published notebook over many parameter sets at once: dynamic task mapping.

``PublishedNotebookOperator.partial(...).expand(parameters=...)`` makes one task instance per
parameter set (here, those of the trigger form, handed over by a small task). Each resolves
the notebook's latest published version when it starts (pin ``version_id`` in ``partial`` for
one version across all of them). On the CeleryExecutor they run on whichever workers are free;
each writes its executed notebook under a key of its own,
``<runs prefix>/bookstore_fan_out/<run id>/run_notebook/map-<index>/try-<n>/mine.ipynb``, with
its parameters and map index in the notebook's S3 metadata, and is retried on its own.

Trigger it from the UI or with ``airflow dags trigger bookstore_fan_out``; the parameter sets
can be replaced in the trigger form. Needs the ``bookstore_default`` connection (see
``bookstore.airflow.hooks.BookstoreHook``).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

from bookstore.airflow.operators import PublishedNotebookOperator

with DAG(
    dag_id="bookstore_fan_out",
    description="One published notebook over many parameter sets, one mapped task each",
    schedule=None,
    tags=["bookstore"],
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=30)},
    # Lets a few runs go at once; the executor spreads them over its workers.
    max_active_tasks=8,
    params={
        "notebook_key": Param(
            "kylek/notebooks/analysis/mine.ipynb",
            type="string",
            minLength=1,
            title="Notebook",
            description="Path of the notebook under the published prefix.",
        ),
        "parameter_sets": Param(
            [{"x": 1}, {"x": 2}, {"x": 3}, {"x": 5}, {"x": 8}, {"x": 13}],
            type="array",
            items={"type": "object"},
            minItems=1,
            title="Parameter sets",
            description="One papermill parameters object per run of the notebook.",
        ),
    },
):

    @task
    def parameter_sets() -> list[dict[str, Any]]:
        """The run's parameter sets: mapping expands over a task's result, not a template."""
        return list(get_current_context()["params"]["parameter_sets"])

    PublishedNotebookOperator.partial(
        task_id="run_notebook",
        notebook_key="{{ params.notebook_key }}",
    ).expand(parameters=parameter_sets())
