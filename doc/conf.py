"""Sphinx configuration for skreg (stub; not built in CI yet)."""

project = "skreg"
copyright = "2026, the skreg developers"
author = "the skreg developers"

extensions = []
exclude_patterns = ["_build"]
master_doc = "index"
