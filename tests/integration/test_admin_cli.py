"""findme-admin against the real stack: each command, both with DATABASE_URL /
REDIS_URL and with the local stack's data folder alone (as beside `make run`)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from findme_auth.tokens import TokenIssuer
from findme_common.key_rotation import load_or_create_key_dir
from findme_devstack.stack import Stack
from findme_gateway.tokens import Role, TokenVerifier

from .conftest import Organizer
from .ops_support import run_admin


def admin(stack: Stack, *args: str, stdin: str = "", local: bool = False) -> Any:
    done = run_admin(stack, "--json", *args, stdin=stdin, local=local)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_progress(client: httpx.Client, organizer: Organizer, event_id: int, **want: int) -> None:
    for _ in range(600):
        progress = client.get(f"/api/events/{event_id}/progress", headers=organizer.headers)
        if all(progress.json()[key] == count for key, count in want.items()):
            return
        time.sleep(0.2)
    raise AssertionError(f"progress never reached {want}: {progress.json()}")


def test_created_accounts_log_in_and_only_operators_see_the_dashboard(
    stack: Stack, client: httpx.Client
) -> None:
    email = f"boss-{uuid.uuid4().hex[:6]}@example.com"
    made = admin(stack, "create-organizer", email, "--password-stdin", stdin="organizer pw 12\n")
    assert made["organizer"]["email"] == email
    login = client.post(
        "/api/organizers/login", json={"email": email, "password": "organizer pw 12"}
    )
    assert login.status_code == 200

    operator = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    made = admin(stack, "create-operator", operator, "--password-stdin", stdin="operator pw 12\n")
    assert made["operator"]["email"] == operator
    # An operator is no organizer, and an organizer no operator.
    assert (
        client.post(
            "/api/organizers/login", json={"email": operator, "password": "operator pw 12"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/api/operators/login", json={"email": email, "password": "organizer pw 12"}
        ).status_code
        == 401
    )
    reply = client.post(
        "/api/operators/login", json={"email": operator, "password": "operator pw 12"}
    )
    assert reply.status_code == 200
    assert (
        "HttpOnly" in reply.headers["set-cookie"] and "Path=/admin" in reply.headers["set-cookie"]
    )
    token = {"Authorization": f"Bearer {reply.json()['access_token']}"}
    assert client.get("/admin/performance/data", headers=token).status_code == 200
    organizer_token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/admin/performance", headers=organizer_token).status_code == 404


def test_events_queue_requeue_rematch_retention_and_purge(
    stack: Stack,
    client: httpx.Client,
    organizer: Organizer,
    event: dict[str, Any],
    attendee: dict[str, Any],
    selfie_bytes: bytes,
) -> None:
    event_id = int(event["id"])
    uploaded = client.post(
        "/api/upload-selfie",
        files={"file": ("me.jpg", selfie_bytes, "image/jpeg")},
        headers=attendee["headers"],
    )
    assert uploaded.status_code == 200
    # A photo the selfie service refuses: JPEG magic, then nothing readable.
    broken = b"\xff\xd8\xff\xe0" + uuid.uuid4().bytes * 8
    files = [("files", ("a.jpg", selfie_bytes, "image/jpeg")), ("files", ("b.jpg", broken))]
    assert (
        client.post(
            f"/api/events/{event_id}/photos", files=files, headers=organizer.headers
        ).status_code
        == 202
    )
    wait_progress(client, organizer, event_id, done=1, failed=1)

    listed = {item["event"]["id"]: item for item in admin(stack, "events", local=True)}
    stats = listed[event_id]["stats"]
    assert stats["attendees"] == 1 and stats["selfies"] == 1 and stats["matches"] == 1
    assert stats["photos"]["done"] == 1 and stats["photos"]["failed"] == 1
    queue = admin(stack, "queue")
    assert set(queue) == {"pending", "processing", "oldest_pending_seconds"}

    assert admin(stack, "requeue-failed", str(event_id)) == {"requeued": 1}
    # Back in the queue, the worker is woken, and the same image fails again.
    wait_progress(client, organizer, event_id, done=1, failed=1, pending=0)
    assert admin(stack, "rematch", str(event_id)) == {"references": 1, "matches": 1}
    retention = admin(stack, "retention")
    # Nothing here is old enough.
    assert set(retention) >= {"matches", "selfies", "faces", "failed_photos", "references"}
    assert set(retention.values()) == {0}

    assert admin(stack, "purge-event", str(event_id), local=True) == {"purged": event_id}
    mine = client.get("/api/events", headers=organizer.headers).json()["events"]
    assert event_id not in [item["id"] for item in mine]
    # The attendee's token is still signed, but nothing of theirs is left.
    assert client.get("/api/me/photos", headers=attendee["headers"]).json()["items"] == []


def test_an_unknown_event_is_refused_with_its_reason(stack: Stack) -> None:
    done = run_admin(stack, "rematch", "999999999")
    assert done.returncode == 1
    assert "event_not_found" in done.stderr


def test_rotate_token_key_keeps_old_tokens_valid_and_signs_new_ones(
    stack: Stack, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    old_private, _ = load_or_create_key_dir(keys)
    old_token = issuer(old_private).issue(role="attendee", subject_id=7, event_id=3)

    done = run_admin(stack, "rotate-token-key", "--key-dir", str(keys))
    assert done.returncode == 0, done.stderr
    new_private, accepted = load_or_create_key_dir(keys)

    assert new_private != old_private
    gateway = TokenVerifier(accepted, issuer="findme-auth", audience="findme")
    # Issued before the rotation: still valid until it expires.
    assert gateway.verify(old_token.access_token, role=Role.ATTENDEE).subject_id == 7
    new_token = issuer(new_private).issue(role="attendee", subject_id=8, event_id=3)
    assert gateway.verify(new_token.access_token, role=Role.ATTENDEE).subject_id == 8
    assert "new signing key" in done.stdout


def issuer(private_pem: str) -> TokenIssuer:
    return TokenIssuer(private_pem, issuer="findme-auth", audience="findme", ttl_seconds=600)
