"""The `commsvc` command: Flask's CLI group over create_app, with each area's commands."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _create_app():
    from commsvc.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, load_dotenv=False)
def main():
    """commsvc: masked SMS/voice relay, consent and records under control."""
