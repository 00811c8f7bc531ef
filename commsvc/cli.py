"""The `commsvc` command: Flask's CLI group over create_app, with each area's commands."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _create_app():
    from commsvc.app import create_app
    from commsvc.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        # A setting for the operator to fix, not a bug: one line, and the usage-error status.
        # SystemExit, not click's Exit: Flask prints a traceback for an Exception raised here.
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


@click.group(cls=FlaskGroup, create_app=_create_app, load_dotenv=False)
def main():
    """commsvc: masked SMS/voice relay, consent and records under control."""
