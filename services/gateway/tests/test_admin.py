"""The operators' pages: an operator's token (header or cookie) opens them, anything
else gets the 404 of a missing page; the dashboard's figures add up instances."""

from __future__ import annotations

import pytest
from findme_gateway.flows.performance import merge, summarize

PATHS = ("/admin/performance", "/admin/performance/data")


@pytest.mark.parametrize("path", PATHS)
async def test_only_an_operator_token_opens_the_dashboard(client, make_token, path) -> None:
    assert (await client.get(path)).status_code == 404
    for role in ("attendee", "organizer"):
        token = make_token(role=role)
        refused = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "not_found"
        client.cookies.set("findme_operator", token)
        assert (await client.get(path)).status_code == 404
        client.cookies.clear()
    operator = make_token(role="operator", event=None)
    client.cookies.set("findme_operator", "garbage")
    assert (await client.get(path)).status_code == 404
    client.cookies.clear()
    by_header = await client.get(path, headers={"Authorization": f"Bearer {operator}"})
    assert by_header.status_code == 200
    client.cookies.set("findme_operator", operator)
    assert (await client.get(path)).status_code == 200


async def test_the_dashboard_page_loads_its_charts_from_this_origin(client, make_token) -> None:
    client.cookies.set("findme_operator", make_token(role="operator", event=None))
    page = await client.get("/admin/performance")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "/static/uplot-1.6.32.min.js?v=" in page.text
    assert "http" not in page.text.split("<body>")[1]  # no CDN, no other origin
    script = await client.get("/static/uplot-1.6.32.min.js")
    assert script.status_code == 200


async def test_the_login_page_is_public(client) -> None:
    page = await client.get("/admin/login")
    assert page.status_code == 200 and "operator-form" in page.text


INSTANCE_A = """# TYPE findme_http_requests_total counter
findme_http_requests_total{route="/api/login",method="POST",status="200"} 3
findme_http_requests_total{route="/api/login",method="POST",status="503"} 1
findme_http_requests_total{route="/metrics",method="GET",status="200"} 9
# TYPE findme_photo_queue_photos gauge
findme_photo_queue_photos{status="pending"} 4
# TYPE findme_pool_workers gauge
findme_pool_workers{pool="bcrypt"} 2
"""
INSTANCE_B = """# TYPE findme_http_requests_total counter
findme_http_requests_total{route="/api/login",method="POST",status="200"} 2
# TYPE findme_photo_queue_photos gauge
findme_photo_queue_photos{status="pending"} 4
# TYPE findme_pool_workers gauge
findme_pool_workers{pool="bcrypt"} 2
"""


def test_instances_add_up_except_the_queue_every_instance_reports_whole() -> None:
    merged = merge([INSTANCE_A, INSTANCE_B])
    ok = (("method", "POST"), ("route", "/api/login"), ("status", "200"))
    assert merged["findme_http_requests_total"][ok] == 5
    assert merged["findme_photo_queue_photos"][(("status", "pending"),)] == 4
    assert merged["findme_pool_workers"][(("pool", "bcrypt"),)] == 4

    empty = merge([])
    summary = summarize(
        {"gateway": merged, "auth": merged, "events": empty, "selfie": empty, "worker": merged},
        {"gateway": 1, "auth": 2, "events": 0, "selfie": 0, "worker": 2},
    )
    assert summary["routes"] == {"/api/login": {"count": 6, "errors": 0, "refused": 1}}
    assert summary["pools"]["bcrypt"]["workers"] == 4
    assert summary["photos"]["pending"] == 4
