"""Hostile requests against the real gateway process (uvicorn, httptools): oversized
heads, bodies sent without a token, and secrets in paths."""

from __future__ import annotations

import json
import select
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import psutil
from findme_devstack import faces
from findme_devstack.stack import Stack

from .conftest import Organizer

MIB = 1024 * 1024


def _port(stack: Stack) -> int:
    return stack.ports["gateway"]


def send_until_answered(port: int, data: bytes, *, chunk: int = 64 * 1024) -> tuple[bytes, int]:
    """Send ``data`` in chunks, stopping when the server answers (as a browser would
    read an early answer); the answer and how many bytes were sent before it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        sent = 0
        while sent < len(data):
            try:
                sent += conn.send(data[sent : sent + chunk])
            except (BrokenPipeError, ConnectionResetError):
                break
            if select.select([conn], [], [], 0.005)[0]:
                break
        answer = b""
        try:
            while not answer.endswith(b"}") and (more := conn.recv(65536)):
                answer += more
        except (ConnectionResetError, TimeoutError):
            pass
        return answer, sent


def status_and_code(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)["error"]["code"]


def test_headers_over_the_limit_get_431_and_cost_no_memory(stack: Stack) -> None:
    port = _port(stack)
    gateway = psutil.Process(stack.processes["gateway"].pid)

    answer, sent = send_until_answered(port, b"GET / HTTP/1.1\r\nCookie: " + b"c" * 8 * MIB)
    assert status_and_code(answer) == (431, "request_header_too_large")
    assert sent < MIB  # refused long before the 8 MiB were sent

    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(101))
    assert status_and_code(send_until_answered(port, many + b"\r\n")[0])[0] == 431

    # Six clients each sending a 24 MiB header at once (this took the gateway from
    # 109 MB to 317 MB, never given back, before the limit).
    before = gateway.memory_info().rss
    answers: list[bytes] = []

    def flood() -> None:
        answers.append(send_until_answered(port, b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 24 * MIB)[0])

    threads = [threading.Thread(target=flood) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    grown = gateway.memory_info().rss - before
    print(f"\ngateway RSS {before / MIB:.0f} MiB, +{grown / MIB:.1f} MiB after 6 x 24 MiB headers")
    assert [status_and_code(a)[0] for a in answers] == [431] * 6
    assert grown < 16 * MIB
    assert httpx.get(f"{stack.url}/livez", timeout=5).status_code == 200


def _multipart_head(path: str, size: int, token: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {size}\r\n\r\n"
        '--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    ).encode()


def test_an_upload_without_a_token_is_refused_before_its_body_is_read(stack: Stack) -> None:
    # 60 MB declared (within the photo-batch limit): the 401 comes at once, after the
    # head, while the client still holds almost the whole body.
    for path in ("/api/events/1/photos", "/api/upload-selfie"):
        size = 60 * 1000 * 1000 if "photos" in path else 15 * MIB
        body = _multipart_head(path, size) + b"\xff" * size
        answer, sent = send_until_answered(_port(stack), body)
        assert status_and_code(answer) == (401, "missing_token"), (path, answer[:200])
        assert sent < 4 * MIB, (path, sent)
    # A declared body over the limit is refused from its length alone, as before.
    too_big = _multipart_head("/api/upload-selfie", 200 * 1000 * 1000)
    assert status_and_code(send_until_answered(_port(stack), too_big)[0]) == (413, "too_large")


def test_invite_tokens_never_reach_a_log(
    stack: Stack,
    client: httpx.Client,
    organizer: Organizer,
    event: dict[str, Any],
    faces_dir: Path,
) -> None:
    reply = client.post(f"/api/events/{event['id']}/invites", headers=organizer.headers)
    url = reply.json()["register_url"]
    token = reply.json()["token"]
    form = {"username": "invited_log", "password": "invited pass 1"}
    refused = client.post(url, data=form, files={"file": (faces_dir / faces.NO_FACE).read_bytes()})
    assert refused.status_code == 422
    registered = client.post(url, data=form, files={"file": (faces_dir / faces.OBAMA).read_bytes()})
    assert registered.status_code == 201, registered.text
    client.post(url, data=form, files={"file": b"used"})  # a used invite: 404

    logged = [path for path in stack.log_dir.glob("*.log") if token in path.read_text()]
    assert not logged, logged
    access = (stack.log_dir / "gateway.log").read_text()
    assert access.count('"path": "/api/invites/<redacted>/register"') >= 3
