# JupyterLab with bookstore: every save is archived to the stack's versioned MinIO bucket.
# Built by docker-compose.yaml (context: the repository root); configured by
# docker/jupyter_server_config.py and the environment docker-compose.yaml sets.

# The JupyterLab extension (Publish, Version history) is built with Node.js in a stage of
# its own, into bookstore/labextension, so the final image carries no Node.js.
FROM node:22.23.2-trixie-slim AS labextension
WORKDIR /src/labextension
COPY labextension/package.json labextension/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY labextension/tsconfig.json labextension/install.json ./
COPY labextension/src ./src
COPY labextension/style ./style
COPY labextension/schema ./schema
RUN npm run build

FROM python:3.12.13-slim-trixie

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1

# A non-root user owning the notebooks and Jupyter's data dir (bookstore's spool), created
# before the volumes are mounted there so that Docker gives the volumes this ownership.
RUN useradd --create-home --uid 1000 --shell /bin/bash bookstore \
    && mkdir -p /home/bookstore/notebooks /home/bookstore/.local/share/jupyter \
    && chown -R bookstore:bookstore /home/bookstore

# Only what the package is built from, so that edits elsewhere keep this layer cached.
COPY pyproject.toml README.md /opt/bookstore/
COPY bookstore /opt/bookstore/bookstore
COPY jupyter-config /opt/bookstore/jupyter-config
COPY labextension/hatch_build.py /opt/bookstore/labextension/hatch_build.py
# The built extension; the wheel installs it as share/jupyter/labextensions/notebook-bookstore.
COPY --from=labextension /src/bookstore/labextension /opt/bookstore/bookstore/labextension
RUN pip install "/opt/bookstore[jupyter]"

# System-wide config path: `jupyter lab` reads it without a --config flag.
COPY docker/jupyter_server_config.py /etc/jupyter/jupyter_server_config.py
# The sample parameterised notebook the example DAGs run once it is published; a new
# notebooks volume starts with it.
COPY --chown=bookstore:bookstore docker/notebooks /home/bookstore/notebooks

USER bookstore
WORKDIR /home/bookstore/notebooks
EXPOSE 8888
CMD ["jupyter", "lab"]
