"""The composition root: builds every adapter from settings, once per process.

Only entry points (functions/*/main.py, shared/web, the CLI), emulators/ and bench/ import
it; the import-linter contracts in pyproject.toml keep it that way.
"""
