"""Placeholder replaced by its owner during the foundation work."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
