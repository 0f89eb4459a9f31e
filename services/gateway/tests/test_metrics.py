"""HTTP metrics by route template, refusals by reason, and who may read /metrics."""

from __future__ import annotations

from findme_gateway.__main__ import metrics_directory
from findme_gateway.app import create_app
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families


def requests_counted(route: str, method: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "findme_http_requests_total", {"route": route, "method": method, "status": status}
    )
    return value or 0.0


def refusals(status: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "findme_http_refusals_total", {"status": status, "reason": reason}
    )
    return value or 0.0


async def test_requests_are_counted_by_route_template_not_raw_path(make_settings, open_client):
    app = create_app(make_settings())
    template = "/api/events/{event_id}/progress"
    before = requests_counted(template, "GET", "401")
    unmatched = requests_counted("unmatched", "GET", "404")
    async with open_client(app, "127.0.0.1") as client:
        for event_id in (1, 2, 3):
            assert (await client.get(f"/api/events/{event_id}/progress")).status_code == 401
        assert (await client.get("/no/such/path/12345")).status_code == 404

    assert requests_counted(template, "GET", "401") == before + 3
    assert requests_counted("unmatched", "GET", "404") == unmatched + 1
    count = REGISTRY.get_sample_value(
        "findme_http_request_seconds_count", {"route": template, "method": "GET"}
    )
    assert count is not None and count >= 3


async def test_refusals_are_counted_by_status_and_reason(make_settings, open_client):
    app = create_app(make_settings(login_rate_limit=1, redis_url="redis://127.0.0.1:1/0"))
    before = refusals("401", "missing_token")
    async with open_client(app) as client:
        assert (await client.get("/api/events")).status_code == 401
    assert refusals("401", "missing_token") == before + 1


async def test_metrics_answer_internal_peers_and_nobody_through_a_proxy(make_settings, open_client):
    app = create_app(make_settings())
    async with open_client(app, "10.1.2.3") as client:
        await client.get("/livez")
        reply = await client.get("/metrics")
        assert reply.status_code == 200
        names = {family.name for family in text_string_to_metric_families(reply.text)}
        assert {"findme_http_requests", "findme_http_request_seconds"} <= names
        # Through nginx or the platform's edge: as if the path did not exist.
        proxied = await client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
        assert proxied.status_code == 404
        assert proxied.json()["error"]["code"] == "not_found"
    async with open_client(app, "203.0.113.9") as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_can_be_switched_off(make_settings, open_client) -> None:
    app = create_app(make_settings(metrics_enabled=False))
    template = "/livez"
    before = requests_counted(template, "GET", "200")
    async with open_client(app, "127.0.0.1") as client:
        assert (await client.get("/livez")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404
    assert requests_counted(template, "GET", "200") == before


def test_gateway_main_runs_workers_in_multiprocess_mode(tmp_path, make_settings) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    directory, temporary = metrics_directory(make_settings(metrics_dir=str(tmp_path)))
    assert directory == tmp_path and not temporary
    assert list(tmp_path.iterdir()) == []  # counters start again at zero
    fresh, temporary = metrics_directory(make_settings())
    assert temporary and fresh.is_dir()
    fresh.rmdir()
