"""The shape stays true as the code grows: every /v1 route is guarded, imports point one way."""
from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_v1_route_refuses_a_request_without_a_key(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 401, f"{method} {rule.rule} is not guarded"
            assert response.headers["WWW-Authenticate"] == "Bearer"
            checked += 1
    assert checked > 0


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


EDGE_MODULE = re.compile(r"(^webhooks\b|\.views$|_views$|\.cli$|_cli$|^commsvc\.cli$)")


def test_services_never_import_an_edge():
    offenders = []
    for path in (ROOT / "commsvc").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if EDGE_MODULE.search(module) or module in ("commsvc.app", "commsvc.relay.simulate"):
            continue
        for name in _imports(path):
            if EDGE_MODULE.search(name):
                offenders.append(f"{module} imports {name}")
    assert offenders == []
