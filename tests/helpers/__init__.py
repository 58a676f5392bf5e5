"""What tests share: stores, servers, notebooks and checks, imported by test modules and
``conftest.py`` alike (a test module never imports another test module)."""
