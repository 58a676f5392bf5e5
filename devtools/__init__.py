"""Development and test tooling shared by ``tests/``, ``benchmarks/`` and ``scripts/``: local
servers (SeaweedFS, Jupyter) and the process supervision they need. Not part of the installed
package: bookstore itself talks to whatever S3 it is configured with."""
