"""The Jupyter edge: the archiving contents manager, its queue and spool, and the server
extension's REST handlers. Nothing outside this package imports jupyter_server."""
