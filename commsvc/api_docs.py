"""The /v1 blueprints' base, and what the OpenAPI document says about errors: one
problem+json schema for every 4xx/5xx."""
from __future__ import annotations

import importlib.metadata
import json
import re

import flask_smorest
from flask import url_for
from marshmallow import INCLUDE, RAISE, Schema, fields
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from commsvc.auth.roles import ROLES, allows
from commsvc.errors import PROBLEM_JSON, ProblemError, ValidationFailed, echoed

PROBLEM_DESCRIPTIONS = {
    400: "Malformed request (for example, a body that is not JSON)",
    401: "No key, or an unknown or revoked key",
    403: "The key's role may not do this (or may not send X-Access-Reason)",
    404: "Not found",
    405: "This path does not take this method (POST /v1/consent/check: the check is a GET)",
    409: "Conflicts with the current state",
    413: "The request body is too large",
    415: "The body is not JSON (send Content-Type: application/json)",
    422: "Invalid input; `errors` says which field and why",
    503: ("Temporarily unavailable: the database (Retry-After), a lock held longer than the"
          " request may wait (Retry-After), or no proxy number can be allocated"),
}
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


class _Parser(FlaskParser):
    """webargs' parser, with every body Python's JSON parser refuses answered as invalid JSON:
    webargs turns only JSONDecodeError into a 400, and an integer of more than 4,300 digits
    (CPython's limit on int conversion) raises a plain ValueError, which was a 500. A leading
    byte-order mark is ignored, as RFC 8259 allows (and as Flask's own get_json does). A name
    given twice in one object is a 422 naming it: JSON parsers keep the last or the first, so
    the service and its client could read two different requests in one body."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        try:
            return _loads(json_text(req))
        except json.JSONDecodeError:
            raise  # webargs' 400 (an empty body: no body at all)
        except ValueError as error:
            # A non-empty doc: webargs reads an empty one as "no body at all".
            raise json.JSONDecodeError(str(error), "<body>", 0) from None


def json_text(req) -> str:
    """A JSON request body's text: UTF-8, a leading byte-order mark ignored, or a 400 saying
    it is not UTF-8. JSON is exchanged as UTF-8 (RFC 8259, which defines no charset
    parameter): a body in ISO-8859-1 (PowerShell 5's default) or UTF-16 was "not valid JSON",
    which sent the client looking for a syntax error in a document that has none. UTF-16 or
    UTF-32 without a byte-order mark is told by its NULs (json.detect_encoding, RFC 4627's
    rule, which Flask's own parser follows): an ASCII document in it decodes as UTF-8."""
    data = req.get_data(cache=True)
    try:
        if json.detect_encoding(data).startswith("utf-8"):
            return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    charset = req.mimetype_params.get("charset", "")
    named = (f" (the Content-Type's charset={echoed(charset)} is not read)"
             if charset.lower().replace("-", "") not in ("", "utf8") else "")
    raise ProblemError("The request body is not valid UTF-8: send JSON encoded as UTF-8"
                       f"{named}.")


TWICE = "given twice in one JSON object; give it once"


class _Twice(dict):
    """A JSON object in which `name` was given twice."""

    name = ""


def _loads(text: str):
    """The JSON document, or a 422 naming a member given twice where it is
    ({"requester": {"phone": [...]}}), as every validation error names a field."""
    found: list[_Twice] = []

    def once_each(pairs: list[tuple[str, object]]) -> dict:
        members = dict(pairs)
        if len(members) == len(pairs):
            return members
        seen: set[str] = set()
        twice = _Twice(members)
        twice.name = next(name for name, _ in pairs if name in seen or seen.add(name))
        found.append(twice)
        return twice

    document = json.loads(text, object_pairs_hook=once_each)
    for twice in found:  # the first still in the document (a later twice may have replaced it)
        path = _path_to(document, twice)
        if path is not None:
            errors = {twice.name: [TWICE]}  # named as flat_errors names every field
            for key in reversed(path):
                errors = {key: errors}
            raise ValidationFailed(errors=errors)
    return document


def _path_to(value, target) -> tuple | None:
    """The keys and indexes that lead from `value` to the object `target` (itself)."""
    if value is target:
        return ()
    children = (value.items() if isinstance(value, dict)
                else enumerate(value) if isinstance(value, list) else ())
    for key, child in children:
        if isinstance(child, dict | list):
            path = _path_to(child, target)
            if path is not None:
                return (key, *path)
    return None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with one argument schema per view instead of one per request,
    and unknown query arguments refused.

    Given a Schema class, webargs instantiates it on every request (deep-copying its fields:
    a tenth of a session creation's CPU); an instance made once is reused (loading keeps no
    state in the schema).

    webargs ignores unknown query arguments unless told otherwise, so a filter the API does not
    have (?outcome=forwarded) answered an unfiltered list as if it had applied it. Like an
    unknown JSON field, it is a 422 naming it.
    """

    ARGUMENTS_PARSER = _Parser()

    def arguments(self, schema, *args, **kwargs):
        if kwargs.get("location") == "query":
            kwargs.setdefault("unknown", RAISE)
        return super().arguments(schema() if isinstance(schema, type) else schema,
                                 *args, **kwargs)


class ProblemDetails(Schema):
    """An RFC 9457 problem, as every error of the API is rendered (extension members allowed)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "field -> list of messages (validation);"
                                                  " nested fields as dotted paths"
                                                  " (requester.phone, capabilities.1);"
                                                  " request_body: the body as a whole"
                                                  " (not a JSON object)"})
    request_id = fields.String()


def documented_as(documented):
    """A view that the OpenAPI document describes as `documented`, a function decorated with
    the Blueprint's arguments, response and problems (not routed), without running through
    those decorators: for a hot view that reads its own input and calls `documented` for what
    it does not read itself."""

    def decorator(view):
        view._apidoc = documented._apidoc
        return view

    return decorator


# An answer that makes a resource with a URL of its own (a session, an accepted text) says
# where it is, as RFC 9110 has a 201 do: the client follows it rather than building the path.
LOCATION = {"Location": {"description": "The path of the resource (GET it for its state)",
                         "required": True, "schema": {"type": "string"}}}


def location(endpoint: str, **values) -> dict[str, str]:
    """The Location header of an answer naming the resource `endpoint` serves at `values`."""
    return {"Location": url_for(endpoint, **values)}


def problems(blp, *codes: int):
    """Document the problem+json answers a view may give (applied below blp.route)."""

    def decorator(view):
        for code in codes:
            view = blp.alt_response(code, schema=ProblemDetails, content_type=PROBLEM_JSON,
                                    description=PROBLEM_DESCRIPTIONS.get(code, "Error"))(view)
        return view

    return decorator


# What the edge checks (commsvc.input_guard) may answer on any /v1 operation, whether or not it
# takes a body or query arguments: a body that is not JSON (400, 415), too large (413), an
# argument or field it does not take, given twice, or holding NUL (422).
EDGE_CHECK_CODES = (400, 413, 415, 422)
# And every /v1 operation reads its key from the database: 503 while it is not answering.
EVERY_V1_CODES = (*EDGE_CHECK_CODES, 503)


PROBES = ("/readyz",)


def document_problem_responses(spec: dict) -> dict:
    """Every error answer is application/problem+json, whatever a view or flask-smorest declared;
    every /v1 operation may also answer what the edge checks answer, and 503 (EVERY_V1_CODES)."""
    responses = [r for r in spec.get("components", {}).get("responses", {}).values()]
    for path, operations in spec.get("paths", {}).items():
        if path in PROBES:
            continue  # a probe's 503 is its own JSON ({"status", "database"}), not a problem
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if path.startswith("/v1/"):
                for code in EVERY_V1_CODES:
                    operation["responses"].setdefault(str(code), {
                        "description": PROBLEM_DESCRIPTIONS[code], "content": PROBLEM_CONTENT})
            responses.extend(
                r for code, r in operation.get("responses", {}).items()
                if str(code)[0] in "45" or code == "default"
            )
    for response in responses:
        content = response.get("content") if isinstance(response, dict) else None
        if content and "application/json" in content:
            content[PROBLEM_JSON] = content.pop("application/json")
    return spec


_RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
ACCESS_REASON = {
    "in": "header", "name": "X-Access-Reason", "schema": {"type": "string", "maxLength": 500},
    "description": "Why full numbers and bodies are needed (privacy and admin keys only; other"
                   " roles get 403). Written to the audit log with the act where it is audited:"
                   " a read that then shows numbers or bodies otherwise masked (pii.read), an"
                   " export, an erasure, lifting a hold, a change to the pool. Elsewhere (placing"
                   " a hold or writing consent, which show back the number sent; sending; the"
                   " audit log; the consent check) the header is checked, not recorded.",
}


def document_access_reason(spec: dict, app) -> dict:
    """What the guard of every /v1 operation checks: which roles may call it (any other key
    is a 403; a reader of /docs could not tell which key to use), and X-Access-Reason, which
    it takes on every one, required where the act must state why."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if not hasattr(view, "required_permission"):
            continue
        path = spec.get("paths", {}).get(_RULE_VARIABLE.sub(r"{\1}", rule.rule), {})
        roles = [role for role in ROLES if allows(role, view.required_permission)]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = path.get(method.lower())
            if not isinstance(operation, dict):
                continue
            if "x-roles" not in operation:  # the spec is documented again on every request
                operation["x-roles"] = roles
                operation["description"] = (f"Roles: {', '.join(roles)} (any other key: 403)."
                                            f" {operation.get('description', '')}").strip()
            parameters = operation.setdefault("parameters", [])
            # A view that reads the header through its own schema has documented it already.
            if not any(p["in"] == "header" and p["name"].lower() == "x-access-reason"
                       for p in parameters):
                parameters.append({**ACCESS_REASON, "required": view.reason_required})
    return spec


# GET /docs is Swagger UI; its scripts and styles are served from the installed
# swagger-ui-bundle package, so the page works without internet access (a laptop, a closed
# network) and never runs a script fetched from a CDN at whatever version it serves that day.
# Only the files the page loads, under the package's version (a new one is a new URL, so a
# day's caching never serves a page the files of another version).
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                              "swagger-ui.css"})
SWAGGER_UI_ASSETS = f"/docs/swagger-ui/{importlib.metadata.version('swagger-ui-bundle')}/"
docs_assets = flask_smorest.Blueprint("docs_assets", __name__)


@docs_assets.route(SWAGGER_UI_ASSETS + "<name>")
def swagger_ui_asset(name: str):
    """A Swagger UI file the page loads (404 for anything else)."""
    import swagger_ui_bundle
    from flask import abort, send_from_directory

    if name not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, name, max_age=86400)
