"""Event photos end to end: organizer uploads -> worker -> selfie.AnalyzePhoto ->
faces and matches in PostgreSQL -> each attendee's "my photos", over HTTP against
the real stack, with real faces (findme_devstack.faces; the people of
../shared/faces join as strangers when it is there)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from findme_devstack import faces
from findme_devstack.stack import Stack

# tests/integration/conftest.py's Organizer (token, headers).
Organizer = Any

# Who joins the event: each with their selfie. Strangers appear in no photo.
PEOPLE = {"obama": faces.OBAMA, "biden": faces.BIDEN, "eileen": faces.ASTRONAUT}
STRANGERS = ("alex_lacamoire", "kit_harington", "rose_leslie", "lin_manuel_miranda")
UPLOADS = (faces.TWO_PEOPLE, faces.CROWD, faces.NO_FACE, faces.OBAMA)


def selfie_file(faces_dir: Path, person: str) -> Path:
    return faces_dir / PEOPLE[person]


def register(client: httpx.Client, code: str, username: str) -> dict[str, str]:
    reply = client.post(
        "/api/register-with-event-code",
        json={"event_code": code, "username": username, "password": "attendee pass 1"},
    )
    assert reply.status_code == 201, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def upload_selfie(client: httpx.Client, headers: dict[str, str], path: Path) -> dict[str, Any]:
    reply = client.post("/api/upload-selfie", headers=headers, files={"file": path.read_bytes()})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def wait_processed(
    client: httpx.Client, organizer: Organizer, event_id: int, count: int, timeout: float = 180
) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        reply = client.get(f"/api/events/{event_id}/progress", headers=organizer.headers)
        assert reply.status_code == 200, reply.text
        progress: dict[str, int] = reply.json()
        if progress["done"] + progress["failed"] >= count:
            return progress
        assert time.monotonic() < deadline, f"photos not processed in time: {progress}"
        time.sleep(0.3)


def all_items(client: httpx.Client, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    """Every item of a paginated photo list, page after page; their links checked."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        reply = client.get(path, headers=headers, params={"cursor": cursor})
        assert reply.status_code == 200, reply.text
        page = reply.json()
        for item in page["items"]:
            assert item["url"] == f"/api/photos/{item['photo_id']}/display"
            assert item["thumbnail_url"] == f"/api/photos/{item['photo_id']}/thumbnail"
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = page["next_cursor"]


def my_photo_ids(client: httpx.Client, headers: dict[str, str]) -> list[int]:
    items = all_items(client, headers, "/api/me/photos")
    assert all(0 <= item["distance"] <= 0.6 and item["detected_at"] for item in items)
    return [item["photo_id"] for item in items]


def upload_photos(
    client: httpx.Client, organizer: Organizer, event_id: int, files: list[tuple[str, bytes]]
) -> httpx.Response:
    return client.post(
        f"/api/events/{event_id}/photos",
        headers=organizer.headers,
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
    )


def test_faces_end_to_end(
    client: httpx.Client, organizer: Organizer, event: dict[str, Any], faces_dir: Path
) -> None:
    event_id = int(event["id"])
    shared = faces.shared_dir()
    selfies = {person: faces_dir / name for person, name in PEOPLE.items()}
    if shared is not None:
        selfies.update({person: next(shared.glob(f"selfies/{person}.*")) for person in STRANGERS})
    attendees = {}
    for person, selfie in selfies.items():
        attendees[person] = register(client, str(event["code"]), f"{person}_{uuid.uuid4().hex[:4]}")
        upload_selfie(client, attendees[person], selfie)

    # A file that is not an image refuses the whole request: nothing is stored.
    refused = upload_photos(
        client,
        organizer,
        event_id,
        [("a.jpg", (faces_dir / UPLOADS[0]).read_bytes()), ("notes.txt", b"just text")],
    )
    assert refused.status_code == 415, refused.text
    assert refused.json()["error"]["files"] == ["notes.txt"]

    reply = upload_photos(
        client, organizer, event_id, [(name, (faces_dir / name).read_bytes()) for name in UPLOADS]
    )
    assert reply.status_code == 202, reply.text
    accepted = reply.json()["photos"]
    assert [p["status"] for p in accepted] == ["pending"] * 4
    photo_id = {name: p["id"] for name, p in zip(UPLOADS, accepted, strict=True)}

    # The same content again is recognised, not queued twice.
    again = upload_photos(
        client, organizer, event_id, [("copy.jpg", (faces_dir / UPLOADS[0]).read_bytes())]
    )
    assert again.status_code == 202
    assert again.json()["photos"][0]["id"] == photo_id[UPLOADS[0]]
    assert again.json()["photos"][0]["duplicate"] is True

    progress = wait_processed(client, organizer, event_id, 4)
    assert progress == {"pending": 0, "processing": 0, "done": 4, "failed": 0}

    obama_photos = {photo_id[faces.TWO_PEOPLE], photo_id[faces.OBAMA]}
    assert sorted(my_photo_ids(client, attendees["obama"]), reverse=True) == my_photo_ids(
        client, attendees["obama"]
    )
    assert set(my_photo_ids(client, attendees["obama"])) == obama_photos
    assert my_photo_ids(client, attendees["biden"]) == [photo_id[faces.TWO_PEOPLE]]
    assert my_photo_ids(client, attendees["eileen"]) == [photo_id[faces.CROWD]]
    for person in attendees.keys() - PEOPLE.keys():
        assert my_photo_ids(client, attendees[person]) == [], person

    stats = client.get(f"/api/events/{event_id}/stats", headers=organizer.headers).json()
    assert stats["attendees"] == len(attendees) and stats["selfies"] == len(attendees)
    assert stats["photos"]["done"] == 4
    assert stats["faces"] == 2 + 9 + 0 + 1  # two people, the crowd, coffee, obama alone
    assert stats["matches"] == 4

    # Images: the matched attendee and the organizer may fetch; nobody else.
    group = photo_id[faces.TWO_PEOPLE]
    solo = photo_id[faces.OBAMA]
    for kind in ("display", "thumbnail"):
        image = client.get(f"/api/photos/{group}/{kind}", headers=attendees["biden"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.content.startswith(b"\xff\xd8")
        assert (
            client.get(f"/api/photos/{solo}/{kind}", headers=organizer.headers).status_code == 200
        )
    assert client.get(f"/api/photos/{solo}/display", headers=attendees["biden"]).status_code == 404
    assert client.get(f"/api/photos/{solo}/display").status_code == 401

    # Re-uploading a selfie recomputes: biden's new selfie is obama's face.
    replaced = upload_selfie(client, attendees["biden"], faces_dir / "variants/obama-720p.jpg")
    assert replaced["matches"] == 2
    assert set(my_photo_ids(client, attendees["biden"])) == obama_photos
    upload_selfie(client, attendees["biden"], selfie_file(faces_dir, "biden"))
    assert my_photo_ids(client, attendees["biden"]) == [group]

    # Deleting an attendee removes their matches (and selfie).
    assert client.delete("/api/me", headers=attendees["obama"]).status_code == 204
    assert my_photo_ids(client, attendees["obama"]) == []
    after = client.get(f"/api/events/{event_id}/stats", headers=organizer.headers).json()
    people = len(attendees) - 1
    assert (after["attendees"], after["selfies"], after["matches"]) == (people, people, 2)
    assert client.get(f"/api/photos/{group}/display", headers=attendees["obama"]).status_code == 404


def test_other_organizers_get_404(
    client: httpx.Client, organizer: Organizer, event: dict[str, Any]
) -> None:
    other = client.post(
        "/api/organizers",
        json={"email": f"other-{uuid.uuid4().hex[:8]}@example.com", "password": "other pass 1"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {other}"}
    event_id = event["id"]
    assert client.get(f"/api/events/{event_id}/progress", headers=headers).status_code == 404
    assert client.get(f"/api/events/{event_id}/stats", headers=headers).status_code == 404
    assert client.delete(f"/api/events/{event_id}", headers=headers).status_code == 404
    assert client.get("/api/events", headers=headers).json() == {"events": []}
    mine = client.get("/api/events", headers=organizer.headers).json()["events"]
    assert [e["id"] for e in mine] == [event_id]


def test_invite_registers_with_selfie_once(
    client: httpx.Client, organizer: Organizer, event: dict[str, Any], faces_dir: Path
) -> None:
    reply = client.post(f"/api/events/{event['id']}/invites", headers=organizer.headers)
    assert reply.status_code == 201, reply.text
    url = reply.json()["register_url"]
    form = {"username": "invited", "password": "invited pass 1"}
    selfie = {"file": selfie_file(faces_dir, "eileen").read_bytes()}

    no_face = client.post(url, data=form, files={"file": (faces_dir / UPLOADS[2]).read_bytes()})
    assert no_face.status_code == 422, no_face.text  # refused image: invite still usable
    registered = client.post(url, data=form, files=selfie)
    assert registered.status_code == 201, registered.text
    assert registered.json()["attendee"]["username"] == "invited"
    assert registered.json()["selfie"]["stored_bytes"] > 0
    token = registered.json()["access_token"]
    assert client.get("/api/me/photos", headers={"Authorization": f"Bearer {token}"}).json() == {
        "items": [],
        "next_cursor": None,
    }
    reused = client.post(url, data={**form, "username": "second"}, files=selfie)
    assert reused.status_code == 404 and reused.json()["error"]["code"] == "invite_not_found"


async def test_fifty_concurrent_registrations_of_one_name(
    stack: Stack, event: dict[str, Any]
) -> None:
    body = {"event_code": event["code"], "username": "popular", "password": "same pass 1"}
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        replies = await asyncio.gather(
            *(http.post("/api/register-with-event-code", json=body) for _ in range(50))
        )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] + [409] * 49, [r.text for r in replies if r.status_code != 409]
    assert {r.json()["error"]["code"] for r in replies if r.status_code == 409} == {
        "username_taken"
    }


async def _photo_rows(database_url: str, event_id: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT p.id, p.status, p.attempts, "
            "(SELECT count(*) FROM faces f WHERE f.photo_id = p.id) AS faces, "
            "(SELECT count(DISTINCT (f.top, f.right, f.bottom, f.left)) FROM faces f "
            " WHERE f.photo_id = p.id) AS distinct_faces, "
            "(SELECT count(*) FROM matches m WHERE m.photo_id = p.id) AS matches "
            "FROM photos p WHERE p.event_id = $1 ORDER BY p.id",
            event_id,
        )
    finally:
        await conn.close()


async def _expire_claims(database_url: str, event_id: int) -> None:
    """Stand-in for waiting out the lease: the claim of the dead worker ends now."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE photos SET lease_until = now() - interval '1 second' "
            "WHERE event_id = $1 AND status = 'processing'",
            event_id,
        )
    finally:
        await conn.close()


async def test_worker_killed_mid_photo_is_recovered(
    stack: Stack, organizer: Organizer, event: dict[str, Any], faces_dir: Path
) -> None:
    event_id = int(event["id"])
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        reply = await http.post(
            "/api/register-with-event-code",
            json={"event_code": event["code"], "username": "obama", "password": "obama pass 1"},
        )
        headers = {"Authorization": f"Bearer {reply.json()['access_token']}"}
        reply = await http.post(
            "/api/upload-selfie",
            headers=headers,
            files={"file": (faces_dir / faces.OBAMA).read_bytes()},
        )
        assert reply.status_code == 200, reply.text
        names = [faces.CROWD, faces.TWO_PEOPLE]
        reply = await http.post(
            f"/api/events/{event_id}/photos",
            headers=organizer.headers,
            files=[("files", (n, (faces_dir / n).read_bytes(), "image/jpeg")) for n in names],
        )
        assert reply.status_code == 202, reply.text

    worker = stack.processes["worker"]
    deadline = time.monotonic() + 60
    while not any(
        row["status"] == "processing" for row in await _photo_rows(stack.database_url, event_id)
    ):
        assert time.monotonic() < deadline, "the worker never claimed the photos"
        await asyncio.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_in = {
        r["id"]
        for r in await _photo_rows(stack.database_url, event_id)
        if r["status"] == "processing"
    }
    assert killed_in, "the photo finished before the kill; nothing to recover"

    await _expire_claims(stack.database_url, event_id)
    stack.restart("worker")
    deadline = time.monotonic() + 120
    while True:
        rows = await _photo_rows(stack.database_url, event_id)
        if all(row["status"] == "done" for row in rows):
            break
        assert time.monotonic() < deadline, rows
        await asyncio.sleep(0.3)

    for row in rows:
        assert row["faces"] == row["distinct_faces"] > 0, row  # no face stored twice
        if row["id"] in killed_in:
            assert row["attempts"] == 2, row
    assert [row["matches"] for row in rows] == [0, 1]  # obama: not in the crowd, in the pair
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        page = (await http.get("/api/me/photos", headers=headers)).json()
    assert [item["photo_id"] for item in page["items"]] == [rows[1]["id"]]


def test_event_deletion_removes_rows_and_blobs(
    client: httpx.Client, stack: Stack, organizer: Organizer, faces_dir: Path
) -> None:
    event = client.post("/api/events", json={"name": "Short"}, headers=organizer.headers).json()
    reply = upload_photos(
        client, organizer, event["id"], [("g.jpg", (faces_dir / UPLOADS[0]).read_bytes())]
    )
    assert reply.status_code == 202
    wait_processed(client, organizer, event["id"], 1)
    blob_dir = stack.config.data_dir / "blobs" / "events" / str(event["id"])
    assert len([p for p in blob_dir.rglob("*") if p.is_file()]) == 3  # original, display, thumb

    assert client.delete(f"/api/events/{event['id']}", headers=organizer.headers).status_code == 204
    assert not blob_dir.exists()
    assert (
        client.get(f"/api/events/{event['id']}/progress", headers=organizer.headers).status_code
        == 404
    )
    check = client.post("/api/check-event-code", json={"event_code": event["code"]})
    assert check.json() == {"valid": False, "event": None}
