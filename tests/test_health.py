def test_healthz_says_the_process_is_up(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "up"


def test_openapi_document_is_served(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "commsvc"


def test_unknown_path_is_problem_json(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_metrics_are_prometheus_text(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"commsvc_database_up 1.0" in response.data


def test_pathologically_nested_json_is_a_400_not_a_500(client, api_key):
    body = "[" * 5000 + "]" * 5000
    response = client.post("/v1/sessions", data=body, content_type="application/json",
                           headers=api_key("booking"))
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_the_openapi_document_gives_readyz_503_as_the_json_it_is(client):
    """Found by an operator's audit: documented as problem+json, answered as application/json."""
    spec = client.get("/openapi.json").get_json()
    assert list(spec["paths"]["/readyz"]["get"]["responses"]["503"]["content"]) == [
        "application/json"]
    assert client.get("/readyz").mimetype == "application/json"
