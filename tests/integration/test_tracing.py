"""Traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set: one check-event-code
gives one trace through the gateway, the gRPC call, the events service's SQL and
Redis, each span carrying the request id. The collector is a small OTLP/HTTP
receiver in this test."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from findme_devstack.stack import temporary_stack
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

Span = dict[str, object]


class Receiver(BaseHTTPRequestHandler):
    spans: ClassVar[list[Span]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    Receiver.spans.append(
                        {
                            "service": resource.get("service.name"),
                            "name": span.name,
                            "trace": span.trace_id.hex(),
                            "attributes": attributes,
                        }
                    )
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def collector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_one_request_is_one_trace_from_gateway_to_sql_and_redis(collector: str) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "FINDME_SELFIE_WORKERS": "1",
    }
    with temporary_stack(env, database_url=os.environ.get("TEST_DATABASE_URL") or None) as stack:
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            email = f"trace-{uuid.uuid4().hex[:6]}@example.com"
            token = client.post("/api/organizers", json={"email": email, "password": "trace pw 12"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            code = client.post("/api/events", json={"name": "t"}, headers=headers).json()["code"]
            request_id = f"trace-{uuid.uuid4().hex}"
            reply = client.post(
                "/api/check-event-code",
                json={"event_code": code},
                headers={"x-request-id": request_id},
            )
            assert reply.status_code == 200
        deadline = time.monotonic() + 30
        mine: list[Span] = []
        while time.monotonic() < deadline:
            tagged = [
                s
                for s in Receiver.spans
                if s["attributes"].get("findme.request_id") == request_id  # type: ignore[union-attr]
            ]
            traces = {s["trace"] for s in tagged}
            mine = [s for s in Receiver.spans if s["trace"] in traces]
            services = {s["service"] for s in mine}
            systems = {s["attributes"].get("db.system") for s in mine}  # type: ignore[union-attr]
            if {"findme-gateway", "findme-events"} <= services and {
                "postgresql",
                "redis",
            } <= systems:
                break
            time.sleep(0.5)
    assert len({s["trace"] for s in mine}) == 1, mine
    assert {"findme-gateway", "findme-events"} <= {s["service"] for s in mine}
    summary = [(s["service"], s["name"], s["attributes"].get("db.system")) for s in mine]  # type: ignore[union-attr]  # type: ignore[union-attr]
    assert {"postgresql", "redis"} <= {s["attributes"].get("db.system") for s in mine}, summary  # type: ignore[union-attr]
    names = {s["name"] for s in mine}
    assert any("GetEventByCode" in str(name) for name in names), names
