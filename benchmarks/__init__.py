"""Reproducible performance measurements of bookstore, each against a baseline from the same run."""
