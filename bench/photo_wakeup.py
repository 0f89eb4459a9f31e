"""How soon an idle system starts a new photo: from the upload's answer to the photo
in ``processing``, one photo at a time on an otherwise idle stack (the photo worker
is woken by PostgreSQL NOTIFY; polling every ``FINDME_WORKER_IDLE_POLL`` s is only
the fallback).

    uv run python -m bench.photo_wakeup [--quick] [--photos N]

Each photo is a real face photo with a few random bytes after its end (a new content
hash, the same image). The status is read from PostgreSQL every millisecond from the
moment the upload answered. Target: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid

import asyncpg
import httpx
from findme_devstack import faces
from findme_devstack.stack import temporary_stack

TARGET_MS = 100.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(url: str, database_url: str, photos: int, image: bytes) -> list[float]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        signed = await http.post(
            "/api/organizers", json={"email": email, "password": "bench pw 12"}
        )
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        event = (await http.post("/api/events", json={"name": "wake"}, headers=headers)).json()
        database = await asyncpg.connect(database_url)
        latencies = []
        try:
            for _ in range(photos):
                await asyncio.sleep(1.0)  # idle: the worker sleeps in its wait
                content = image + os.urandom(16)
                reply = await http.post(
                    f"/api/events/{event['id']}/photos",
                    files=[("files", ("p.jpg", content, "image/jpeg"))],
                    headers=headers,
                )
                answered = time.perf_counter()
                photo_id = reply.json()["photos"][0]["id"]
                while True:
                    status = await database.fetchval(
                        "SELECT status FROM photos WHERE id = $1", photo_id
                    )
                    if status != "pending":
                        break
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - answered) * 1000)
                # Let the photo finish before the next one: the system is idle again.
                while status in ("pending", "processing"):
                    await asyncio.sleep(0.05)
                    status = await database.fetchval(
                        "SELECT status FROM photos WHERE id = $1", photo_id
                    )
        finally:
            await database.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--photos", type=int)
    args = parser.parse_args()
    photos = args.photos or (8 if args.quick else 30)
    image = (faces.core_dir() / faces.OBAMA).read_bytes()
    with temporary_stack({"FINDME_SELFIE_WORKERS": "1"}) as stack:
        database_url = stack.database_url
        latencies = asyncio.run(measure(stack.url, database_url, photos, image))
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(
        f"upload answer -> processing, {photos} photos on an idle stack: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms "
        f"(target p95 < {TARGET_MS:.0f} ms)"
    )
    return 0 if p95 < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
