"""Fair shares of the image workers, on the real stack (two selfie workers): one
account sending expensive selfies as fast as its limits allow cannot starve another
attendee's."""

from __future__ import annotations

import io
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from findme_devstack import faces
from findme_devstack.stack import Stack
from PIL import Image


def register(client: httpx.Client, event: dict[str, Any]) -> dict[str, str]:
    reply = client.post(
        "/api/register-with-event-code",
        json={
            "event_code": event["code"],
            "username": f"guest_{uuid.uuid4().hex[:6]}",
            "password": "attendee pass 1",
        },
    )
    assert reply.status_code == 201, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def expensive_png() -> bytes:
    """The costliest selfie accepted for decoding: 25 megapixels (the cap), 85 KB of
    PNG; about 0.8 s of a worker to find no face in it."""
    image = Image.linear_gradient("L").resize((5000, 5000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=9)
    return out.getvalue()


def test_one_account_cannot_starve_another_attendees_selfies(
    stack: Stack, client: httpx.Client, event: dict[str, Any], faces_dir: Path
) -> None:
    attacker, victim = register(client, event), register(client, event)
    png = expensive_png()
    stop = threading.Event()
    answers: Counter[str] = Counter()

    def attack() -> None:
        # As fast as the limits allow: a refusal's Retry-After is honoured, nothing more.
        with httpx.Client(base_url=stack.url, timeout=120) as http:
            while not stop.is_set():
                reply = http.post(
                    "/api/upload-selfie", files={"file": ("big.png", png)}, headers=attacker
                )
                code = reply.json().get("error", {}).get("code", "ok")
                answers[code] += 1
                if reply.status_code in (429, 503):
                    stop.wait(float(reply.headers.get("retry-after", "1")))

    attackers = [threading.Thread(target=attack) for _ in range(4)]
    for thread in attackers:
        thread.start()
    time.sleep(3)  # the attacker's lane is full and one worker is busy with it
    selfie = (faces_dir / faces.OBAMA).read_bytes()
    statuses, seconds = [], []
    try:
        with httpx.Client(base_url=stack.url, timeout=60) as http:
            for _ in range(20):
                started = time.perf_counter()
                reply = http.post(
                    "/api/upload-selfie", files={"file": ("me.jpg", selfie)}, headers=victim
                )
                seconds.append(time.perf_counter() - started)
                statuses.append(reply.status_code)
    finally:
        stop.set()
        for thread in attackers:
            thread.join(120)
    p95 = statistics.quantiles(seconds, n=20)[-1]
    print(
        f"\nvictim: {statuses.count(200)}/20 ok, p50 {statistics.median(seconds):.2f} s, "
        f"p95 {p95:.2f} s; attacker answers: {dict(answers)}"
    )
    assert statuses.count(200) >= 19, statuses
    assert p95 < 2.0, seconds
    # The attacker was really there: its selfies were processed (no face in them)
    # and the ones beyond its share were refused.
    assert answers["no_face"] >= 2
    assert answers["selfie_in_progress"] >= 1
