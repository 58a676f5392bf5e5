# Airflow 3 with the bookstore provider (hook, PublishedNotebookOperator, plugin), papermill
# and ipykernel. One image for the api-server, scheduler, dag-processor, triggerer and the
# Celery workers (which run tasks, and so notebooks) of docker-compose.yaml. The official
# image already carries the Celery provider and the PostgreSQL drivers, pinned by its
# constraints, so the `airflow` extra is all this adds.
FROM apache/airflow:3.3.2-python3.12

COPY --chown=airflow:0 pyproject.toml README.md /opt/bookstore/
COPY --chown=airflow:0 bookstore /opt/bookstore/bookstore
COPY --chown=airflow:0 jupyter-config /opt/bookstore/jupyter-config
# The wheel's build hook; without the extension's sources it builds no JupyterLab extension.
COPY --chown=airflow:0 labextension/hatch_build.py /opt/bookstore/labextension/hatch_build.py
# As the Airflow image documentation advises: pin Airflow to the image's own version and
# install with its constraints, so adding bookstore never up- or downgrades Airflow or a
# provider.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/bookstore[airflow]" \
        --constraint "${HOME}/constraints.txt" \
    && python -m ipykernel install --user --name python3 --display-name "Python 3"
