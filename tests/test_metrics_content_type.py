"""/metrics: the Prometheus text format's content type, exactly as prometheus_client names it."""
from prometheus_client import CONTENT_TYPE_LATEST


def test_metrics_content_type_names_the_charset_once(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert response.headers["Content-Type"].count("charset") == 1
