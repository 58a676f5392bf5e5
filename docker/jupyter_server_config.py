"""JupyterLab's configuration in the Docker stack (docker-compose.yaml, service ``jupyter``).

The seed configuration shape, with the bucket and endpoint from the environment that
docker-compose.yaml sets. Credentials are not here: boto3 reads AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY from the environment, and Jupyter reads its token from JUPYTER_TOKEN.
"""

import os

from bookstore import BookstoreContentsArchiver

c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

c.ServerApp.contents_manager_class = BookstoreContentsArchiver
c.Bookstore.workspace_prefix = "/workspace/kylek/notebooks"
c.Bookstore.published_prefix = "/published/kylek/notebooks"
c.Bookstore.backend = "s3"
c.Bookstore.S3.bucket = os.environ["BOOKSTORE_S3_BUCKET"]
c.Bookstore.S3.endpoint_url = os.environ["BOOKSTORE_S3_ENDPOINT_URL"]
c.Bookstore.S3.region_name = "us-east-1"

# Inside a container: listen on every interface (docker-compose.yaml publishes the port on
# 127.0.0.1 only) and serve the notebooks volume.
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = 8888
c.ServerApp.port_retries = 0
c.ServerApp.open_browser = False
c.ServerApp.root_dir = "/home/bookstore/notebooks"
