"""Matching that learns, end to end with real faces (findme_devstack.faces): the
"maybe you?" tier, "that's me" widening the search, "not me" for good, and "you
missed me here", over HTTP against the real stack.

Obama's photos lie 0.25-0.44 apart, all within the default tolerance; the event
here is stricter (0.30), so some of them fall in the maybe tier (0.30-0.55).
Measured on the encodings the stack computes: from the selfie (obama2.jpg),
obama.jpg is 0.35, the partial face 0.39, the 480p copy 0.37 and obama3.jpg 0.44;
from obama.jpg, the partial face is 0.25, the 480p copy 0.10 and obama3.jpg 0.34.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from findme_devstack import faces

from .test_photos import (
    all_items,
    my_photo_ids,
    register,
    upload_photos,
    upload_selfie,
    wait_processed,
)

Organizer = Any

SELFIE = "selfies/obama2.jpg"
NEAR_SELFIE = faces.OBAMA  # 0.35: a suggestion
NEAR_CONFIRMED = "variants/obama_partial_face.jpg"  # 0.39 from the selfie, 0.25 from it
ARRIVES_LATER = "variants/obama-480p.jpg"  # 0.10 from the confirmed face
LOOKALIKE = "selfies/obama3.jpg"  # a suggestion the attendee says is not them


def suggested_ids(client: httpx.Client, headers: dict[str, str]) -> set[int]:
    items = all_items(client, headers, "/api/me/suggestions")
    assert all(0.30 < item["distance"] <= 0.55 for item in items)
    return {item["photo_id"] for item in items}


def answer(client: httpx.Client, headers: dict[str, str], photo_id: int, value: str) -> int:
    reply = client.post(f"/api/me/suggestions/{photo_id}", headers=headers, json={"answer": value})
    return reply.status_code


def add_photos(
    client: httpx.Client, organizer: Organizer, event_id: int, faces_dir: Path, names: list[str]
) -> dict[str, int]:
    reply = upload_photos(
        client, organizer, event_id, [(name, (faces_dir / name).read_bytes()) for name in names]
    )
    assert reply.status_code == 202, reply.text
    return {name: photo["id"] for name, photo in zip(names, reply.json()["photos"], strict=True)}


def test_suggestions_answers_teach_the_matching(
    client: httpx.Client, organizer: Organizer, faces_dir: Path
) -> None:
    event = client.post(
        "/api/events", json={"name": "Strict", "match_tolerance": 0.3}, headers=organizer.headers
    ).json()
    event_id = int(event["id"])
    me = register(client, event["code"], f"obama_{uuid.uuid4().hex[:4]}")
    other = register(client, event["code"], f"biden_{uuid.uuid4().hex[:4]}")
    assert upload_selfie(client, me, faces_dir / SELFIE)["matches"] == 0
    upload_selfie(client, other, faces_dir / faces.BIDEN)

    photo = add_photos(
        client, organizer, event_id, faces_dir, [NEAR_SELFIE, NEAR_CONFIRMED, LOOKALIKE]
    )
    wait_processed(client, organizer, event_id, 3)

    # Beyond the tolerance: nothing sure, three "maybe you?" suggestions, for me alone.
    assert my_photo_ids(client, me) == []
    assert suggested_ids(client, me) == set(photo.values())
    assert suggested_ids(client, other) == set()
    thumbnail = f"/api/photos/{photo[LOOKALIKE]}/thumbnail"
    assert client.get(thumbnail, headers=me).status_code == 200
    assert client.get(thumbnail, headers=other).status_code == 404
    assert answer(client, other, photo[NEAR_SELFIE], "me") == 404

    # "That's me": a match, and the photo near the confirmed face becomes sure too.
    assert answer(client, me, photo[NEAR_SELFIE], "me") == 204
    assert answer(client, me, photo[NEAR_SELFIE], "me") == 204  # a retry changes nothing
    assert set(my_photo_ids(client, me)) == {photo[NEAR_SELFIE], photo[NEAR_CONFIRMED]}
    assert suggested_ids(client, me) == {photo[LOOKALIKE]}
    # A new photo near the confirmed face is sure on arrival (0.37 from the selfie alone).
    later = add_photos(client, organizer, event_id, faces_dir, [ARRIVES_LATER])[ARRIVES_LATER]
    wait_processed(client, organizer, event_id, 4)
    assert later in my_photo_ids(client, me)

    # "Not me", on a suggestion and on a sure match: gone for good, even after a new selfie.
    assert answer(client, me, photo[LOOKALIKE], "not_me") == 204
    assert client.post(f"/api/me/photos/{later}/not-me", headers=me).status_code == 204
    assert client.post(f"/api/me/photos/{later}/not-me", headers=me).status_code == 404
    upload_selfie(client, me, faces_dir / SELFIE)
    assert set(my_photo_ids(client, me)) == {photo[NEAR_SELFIE], photo[NEAR_CONFIRMED]}
    assert suggested_ids(client, me) == set()
    assert client.get(thumbnail, headers=me).status_code == 404

    # Up to three selfies.
    for _ in range(2):
        added = client.post(
            "/api/upload-selfie",
            headers=me,
            data={"add": "true"},
            files={"file": (faces_dir / faces.OBAMA).read_bytes()},
        )
        assert added.status_code == 200, added.text
    assert added.json()["selfies"] == 3
    refused = client.post(
        "/api/upload-selfie",
        headers=me,
        data={"add": "true"},
        files={"file": (faces_dir / faces.OBAMA).read_bytes()},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "too_many_selfies"

    stats = client.get(f"/api/events/{event_id}/stats", headers=organizer.headers).json()
    assert (stats["suggestions"], stats["missed_photos"]) == (0, 0)

    # Deleting the attendee leaves nothing of what the matching learnt from them.
    assert client.delete("/api/me", headers=me).status_code == 204
    after = client.get(f"/api/events/{event_id}/stats", headers=organizer.headers).json()
    assert (after["matches"], after["suggestions"], after["selfies"]) == (0, 0, 1)


def test_you_missed_me_here(
    client: httpx.Client, organizer: Organizer, event: dict[str, Any], faces_dir: Path
) -> None:
    """Two people far away in a big frame: the first analysis finds no face; the
    attendee flags the photo and a closer look finds them within seconds."""
    event_id = int(event["id"])
    me = register(client, str(event["code"]), f"obama_{uuid.uuid4().hex[:4]}")
    upload_selfie(client, me, faces_dir / faces.OBAMA)
    far = add_photos(client, organizer, event_id, faces_dir, [faces.FAR_AWAY])[faces.FAR_AWAY]
    wait_processed(client, organizer, event_id, 1)
    assert my_photo_ids(client, me) == []

    flagged = client.post("/api/me/missed", headers=me, json={"photo_id": far})
    assert flagged.status_code == 202, flagged.text
    assert flagged.json() == {"photo_id": far, "status": "pending", "found": False}
    started = time.monotonic()
    while (status := client.get(f"/api/me/missed/{far}", headers=me).json())["status"] in (
        "pending",
        "processing",
    ):
        assert time.monotonic() - started < 120, status
        time.sleep(0.3)
    assert status == {"photo_id": far, "status": "done", "found": True}
    print(f"closer look answered in {time.monotonic() - started:.1f} s")
    # 0.32 from the selfie, within the default tolerance: a sure match.
    assert my_photo_ids(client, me) == [far]

    stats = client.get(f"/api/events/{event_id}/stats", headers=organizer.headers).json()
    assert stats["missed_photos"] == 1 and stats["faces"] == 2
    assert client.post("/api/me/missed", headers=me, json={"photo_id": 10**12}).status_code == 404
