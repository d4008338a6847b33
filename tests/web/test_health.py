import httpx


def test_health_and_openapi_over_real_http(server):
    health = httpx.get(f"{server}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    schema = httpx.get(f"{server}/schema/openapi.json", timeout=5)
    assert schema.status_code == 200
    assert "/healthz" in schema.json()["paths"]
