"""create_app: the only wiring point. Dependencies live on app.extensions for tests to swap."""
from __future__ import annotations

import importlib
import json
import logging

import click
from flask import Flask, current_app, jsonify, request
from flask.cli import AppGroup
from flask_smorest import Api

from commsvc import api_docs, crypto, edge_docs, errors, input_guard, logging_setup
from commsvc.clock import utcnow
from commsvc.config.loader import load_config
from commsvc.config.settings import Config
from commsvc.db import session as db
from commsvc.twilio_gateway import make_gateway

API_MODULES = (
    "commsvc.pool.views",
    "commsvc.sessions.views",
    "commsvc.consent.views",
    "commsvc.sending.views",
    "commsvc.records.log_views",
    "commsvc.records.audit_views",
    "commsvc.records.hold_views",
    "commsvc.records.subject_views",
)
CLI_MODULES = (
    "commsvc.db_cli",
    "commsvc.auth.cli",
    "commsvc.pool.cli",
    "commsvc.relay.simulate",
    "commsvc.sending.cli",
    "commsvc.records.cli",
    "commsvc.records.audit_cli",
    "commsvc.records.logs_cli",
)


class ProblemApi(Api):
    """flask-smorest, but every error is problem+json: rendered by errors.py, documented so."""

    ERROR_SCHEMA = api_docs.ProblemDetails

    def handle_http_exception(self, error):
        return errors.render_http_exception(error)

    def document(self) -> dict:
        """The whole OpenAPI document: the /v1 API, the webhooks and probes, every problem
        response and X-Access-Reason (GET /openapi.json and `commsvc openapi print`)."""
        from webhooks.twiml import PREFIX

        spec = edge_docs.document_edges(self.spec.to_dict(), PREFIX)
        spec = api_docs.document_problem_responses(spec)
        return api_docs.document_access_reason(spec, self._app)

    def _openapi_json(self):
        return jsonify(self.document())


# flask-smorest's own `openapi print|write` would give the bare spec, without the webhooks,
# the probes, the problem responses and X-Access-Reason: these replace it.
openapi_cli = AppGroup("openapi", help="The OpenAPI document, as GET /openapi.json serves it.")


def _document_json() -> str:
    return json.dumps(current_app.extensions["api"].document(), indent=2,
                      sort_keys=current_app.json.sort_keys)  # as GET /openapi.json orders it


@openapi_cli.command("print")
def print_openapi() -> None:
    """Print the OpenAPI document (JSON)."""
    click.echo(_document_json())


@openapi_cli.command("write")
@click.argument("output_file", type=click.File("w"))
def write_openapi(output_file) -> None:
    """Write the OpenAPI document (JSON) to OUTPUT_FILE (- for stdout)."""
    click.echo(_document_json(), file=output_file)


def warn_at_start(config: Config) -> None:
    """What a long-running process (web, worker, clock) says once when it starts in production
    without a Twilio account or with the placeholder brand; a one-off CLI command does not."""
    for warning in config.startup_warnings:
        logging.getLogger("commsvc").warning(warning)


# The API's and the webhooks' answers carry personal data (a subject's export, numbers and
# bodies read with a reason, TwiML with a forwarded text): no browser or proxy keeps a copy.
PRIVATE_PREFIXES = ("/v1/", "/webhooks/")


def no_store(response):
    if request.path.startswith(PRIVATE_PREFIXES):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class _App(Flask):
    # ensure_sync's answers (Flask asks it for every hook, view and teardown of every request,
    # six a consent check, and each asks inspect whether the function is a coroutine
    # function, 1% of a check's instructions): the functions are the app's own, registered
    # at start; the bound is for a caller handing new ones each time.
    _SYNC_REMEMBERED = 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        """Flask's answer, remembered per function."""
        try:
            return self._sync[func]
        except KeyError:
            sync = super().ensure_sync(func)
            if len(self._sync) < self._SYNC_REMEMBERED:
                self._sync[func] = sync
            return sync
        except TypeError:  # a function that cannot be a key
            return super().ensure_sync(func)

    def make_default_options_response(self):
        """OPTIONS: a 204 whose Allow lists the path's methods sorted, as a 405 does (Flask
        answers a 200 with an empty body labelled text/html, Allow in a set's order)."""
        response = super().make_default_options_response()
        response.status_code = 204
        response.headers["Allow"] = ", ".join(sorted(response.allow))
        del response.headers["Content-Type"]
        return response


def create_app(config: Config | None = None, *, clock=None, twilio=None, database=None,
               startup_warnings: bool = True) -> Flask:
    config = config or load_config()
    logging_setup.configure(config.log_json)
    if startup_warnings:
        warn_at_start(config)
    app = _App("commsvc", instance_path=None)
    # Werkzeug would answer /v1//sessions with a 308 to a URL built from the request's own Host
    # and scheme, in HTML: a path we do not serve is a 404 problem+json like any other.
    app.url_map.merge_slashes = False
    # JSON answers keep their members in the order the views and schemas build them, the
    # order API.md writes them ({"id", "booking_id", "status", ...}, a problem's "type",
    # "title", "status", "detail"), as the CLI's --json rows do; Flask would sort them.
    app.json.sort_keys = False
    app.config.update(
        API_TITLE="commsvc",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=api_docs.SWAGGER_UI_ASSETS,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        TESTING=config.testing,
    )
    app.extensions["config"] = config
    app.extensions["clock"] = clock or utcnow
    app.extensions["twilio"] = twilio or make_gateway(config, app.extensions["clock"])
    crypto.install(crypto.Keyring(config.encryption_keys))
    db.init_app(app, database or db.Database(config.database_url))

    app.before_request(logging_setup.assign_request_id)
    app.before_request(input_guard.check_v1_input)
    app.extensions["edge_checks"] = (input_guard.check_input,)  # run by each view's guard
    app.after_request(logging_setup.add_request_id_header)
    app.after_request(no_store)
    errors.init_app(app)

    from commsvc.consent.views import SubjectPhone

    app.url_map.converters["subject_phone"] = SubjectPhone
    api = ProblemApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    api.register_converter(SubjectPhone, lambda _converter: {"type": "string"})
    for module in API_MODULES:
        api.register_blueprint(importlib.import_module(module).blp)

    from commsvc import health
    from webhooks import twilio as twilio_webhooks

    app.register_blueprint(health.bp)
    app.register_blueprint(twilio_webhooks.bp)
    app.register_blueprint(api_docs.docs_assets)
    app.extensions["api"] = api
    app.cli.add_command(openapi_cli)
    for module in CLI_MODULES:
        for command in importlib.import_module(module).commands:
            app.cli.add_command(command)
    return app
