"""The gRPC -> HTTP table, exercised with real gRPC errors from a loopback server
(trailing metadata and all), and the JSON shape of every kind of refusal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from fastapi import Request
from findme_common.refusals import GRPC_STATUS, Reason
from findme_gateway.app import create_app
from findme_gateway.errors import HTTP_STATUS, NOT_HTTP, from_rpc_error

CASES = [
    # (grpc code, reason, retry-after sent) -> (HTTP status, error code, Retry-After)
    (("INVALID_ARGUMENT", "no_face", None), (422, "no_face", None)),
    (("INVALID_ARGUMENT", "multiple_faces", None), (422, "multiple_faces", None)),
    (("INVALID_ARGUMENT", "unsupported_format", None), (415, "unsupported_format", None)),
    (("INVALID_ARGUMENT", "too_large", None), (413, "too_large", None)),
    (("INVALID_ARGUMENT", None, None), (422, "invalid_request", None)),
    (("OUT_OF_RANGE", None, None), (422, "invalid_request", None)),
    (("ALREADY_EXISTS", "username_taken", None), (409, "username_taken", None)),
    (("ALREADY_EXISTS", "email_taken", None), (409, "email_taken", None)),
    # A status without one of our reasons is the backend's fault, not the client's.
    (("FAILED_PRECONDITION", None, None), (502, "upstream_error", None)),
    (("ABORTED", None, None), (502, "upstream_error", None)),
    (("UNAUTHENTICATED", "invalid_credentials", None), (401, "invalid_credentials", None)),
    (("PERMISSION_DENIED", None, None), (502, "upstream_error", None)),
    (("NOT_FOUND", "event_not_found", None), (404, "event_not_found", None)),
    (("NOT_FOUND", None, None), (404, "not_found", None)),
    (("RESOURCE_EXHAUSTED", "too_many_attempts", 30), (429, "too_many_attempts", "30")),
    (("RESOURCE_EXHAUSTED", "overloaded", 2), (503, "overloaded", "2")),
    (("RESOURCE_EXHAUSTED", "overloaded", None), (503, "overloaded", "1")),
    (("RESOURCE_EXHAUSTED", None, None), (503, "overloaded", "1")),
    (("UNAVAILABLE", None, None), (503, "service_unavailable", "1")),
    (("UNAVAILABLE", "database_unavailable", None), (503, "database_unavailable", "1")),
    (("UNAVAILABLE", "worker_crashed", 1), (503, "worker_crashed", "1")),
    (("DEADLINE_EXCEEDED", None, None), (503, "timeout", "1")),
    (("CANCELLED", None, None), (503, "cancelled", "1")),
    (("INTERNAL", None, None), (502, "upstream_error", None)),
    (("UNKNOWN", None, None), (502, "upstream_error", None)),
    (("UNIMPLEMENTED", None, None), (502, "upstream_error", None)),
    (("DATA_LOSS", "disk_on_fire", None), (502, "upstream_error", None)),
    (("INVALID_ARGUMENT", "disk_on_fire", None), (422, "invalid_request", None)),
]


@pytest.fixture
async def refuser_channel(refuser: str) -> AsyncIterator[grpc.aio.Channel]:
    channel = grpc.aio.insecure_channel(refuser)
    yield channel
    await channel.close()


@pytest.fixture
async def http(
    make_settings, open_client, refuser_call, refuser_channel
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings())

    async def relay(request: Request) -> dict[str, str]:
        # Lets a real gRPC error escape, as a route calling a backend would.
        await refuser_call(refuser_channel, **(await request.json()))
        return {}

    async def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test/relay", relay, methods=["POST"])
    app.add_api_route("/test/explode", explode, methods=["GET"])
    async with open_client(app) as client:
        yield client


def _order(code: str, reason: str | None, retry_after: int | None) -> dict[str, Any]:
    order: dict[str, Any] = {"code": code, "message": f"backend says {code.lower()}"}
    if reason is not None:
        order["reason"] = reason
    if retry_after is not None:
        order["retry_after"] = retry_after
    return order


@pytest.mark.parametrize(("sent", "expected"), CASES, ids=[f"{s[0]}-{s[1]}" for s, _ in CASES])
async def test_backend_refusals_map_to_http(http, sent, expected) -> None:
    status, code, retry_after = expected

    response = await http.post("/test/relay", json=_order(*sent))

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert response.headers.get("retry-after") == retry_after


async def test_client_errors_keep_the_backend_message(http) -> None:
    response = await http.post("/test/relay", json=_order("NOT_FOUND", "event_not_found", None))

    assert response.json()["error"]["message"] == "backend says not_found"


async def test_server_errors_hide_backend_internals(http) -> None:
    response = await http.post("/test/relay", json=_order("INTERNAL", None, None))

    assert "internal" not in response.json()["error"]["message"].lower()


async def test_unreachable_backend_is_503(closed_target_channel) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        await closed_target_channel.unary_unary("/test.Refuser/Call")(b"{}", timeout=2)

    error = from_rpc_error(caught.value)
    assert (error.status_code, error.code) == (503, "service_unavailable")


async def test_invalid_body_names_the_field(client) -> None:
    response = await client.post("/api/check-user-availability", json={"event_code": "ABC"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["field"] == "username"


async def test_malformed_json_is_422(client) -> None:
    response = await client.post(
        "/api/check-event-code",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_unknown_path_and_wrong_method_are_json(client) -> None:
    missing = await client.get("/api/nothing-here")
    wrong_method = await client.get("/api/login")

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )


async def test_unexpected_exception_is_a_json_500_with_the_request_id(http) -> None:
    response = await http.get("/test/explode", headers={"x-request-id": "boom-1"})

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Something went wrong."}
    }
    assert response.headers["x-request-id"] == "boom-1"


# -- one taxonomy ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]


def _page_messages() -> set[str]:
    script = (ROOT / "services/gateway/findme_gateway/static/api.js").read_text()
    block = script.split("const ERROR_TEXT = {", 1)[1].split("\n};", 1)[0]
    return set(re.findall(r"^\s+([a-z_]+):", block, flags=re.M))


def _readme_rows() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Refusal reasons", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([0-9]{3}|—) \|", section, flags=re.M))


def test_every_reason_has_an_http_status_a_page_message_and_a_readme_row() -> None:
    everything = set(Reason)
    assert set(HTTP_STATUS) | NOT_HTTP == everything
    assert not set(HTTP_STATUS) & NOT_HTTP
    missing_messages = everything - _page_messages()
    assert not missing_messages, f"static/api.js ERROR_TEXT lacks {sorted(missing_messages)}"
    rows = _readme_rows()
    assert set(rows) == everything, set(rows) ^ everything
    for reason in everything:
        expected = "—" if reason in NOT_HTTP else str(HTTP_STATUS[reason])
        assert rows[reason] == expected, (reason, rows[reason], expected)


def test_every_reason_a_service_raises_keeps_its_family_over_http() -> None:
    families = {
        grpc.StatusCode.INVALID_ARGUMENT: {413, 415, 422},
        grpc.StatusCode.NOT_FOUND: {404},
        grpc.StatusCode.ALREADY_EXISTS: {409},
        # A limit the caller reached (3 selfies, 20 flagged photos): waiting won't help.
        grpc.StatusCode.FAILED_PRECONDITION: {409},
        grpc.StatusCode.RESOURCE_EXHAUSTED: {429, 503},
        grpc.StatusCode.UNAVAILABLE: {503},
    }
    for reason, status in GRPC_STATUS.items():
        assert HTTP_STATUS[reason] in families[status], reason
