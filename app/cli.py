"""``flask --app app ...`` commands for operators."""

from __future__ import annotations

import click
from flask import Flask, current_app

from .connect import tenants


def register_cli(app: Flask) -> None:
    @app.cli.command("purge-tenants")
    def purge_tenants() -> None:
        """Delete tenants uninstalled longer than UNINSTALL_RETENTION_DAYS ago."""
        gone = tenants.purge_uninstalled(current_app.config["UNINSTALL_RETENTION_DAYS"])
        click.echo(f"purged {len(gone)} tenant(s)")
