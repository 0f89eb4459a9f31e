"""The crowd that broke the monolith: N attendees at once check the code, pick a
username, register, log in and upload a selfie, all through the gateway.

    python -m bench.crowd [--users 20] [--url http://127.0.0.1:8000]

Without --url it boots the local stack itself. Prints p50/p95/max per step and the
failure count; every step must succeed (status 2xx) to count as a success.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from findme_devstack.stack import Stack, StackConfig

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_attendee(
    client: httpx.AsyncClient, code: str, selfie: bytes, timings: dict[str, list[float]]
) -> str | None:
    username = f"u{uuid.uuid4().hex[:10]}"
    password = "crowd password 1"
    steps = [
        (
            "check-event-code",
            lambda: client.post("/api/check-event-code", json={"event_code": code}),
        ),
        (
            "check-user-availability",
            lambda: client.post(
                "/api/check-user-availability", json={"event_code": code, "username": username}
            ),
        ),
        (
            "register",
            lambda: client.post(
                "/api/register-with-event-code",
                json={"event_code": code, "username": username, "password": password},
            ),
        ),
        (
            "login",
            lambda: client.post(
                "/api/login", json={"event_code": code, "username": username, "password": password}
            ),
        ),
    ]
    token = ""
    for name, call in steps:
        started = time.perf_counter()
        reply = await call()
        timings[name].append(time.perf_counter() - started)
        if reply.status_code >= 300:
            return f"{name}: {reply.status_code} {reply.text[:120]}"
        if name == "login":
            token = reply.json()["access_token"]
    started = time.perf_counter()
    reply = await client.post(
        "/api/upload-selfie",
        files={"file": ("me.jpg", selfie, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    timings["upload-selfie"].append(time.perf_counter() - started)
    if reply.status_code != 200:
        return f"upload-selfie: {reply.status_code} {reply.text[:120]}"
    return None


async def run_crowd(url: str, users: int) -> dict[str, object]:
    selfie = (FACES / "selfies" / "obama.jpg").read_bytes()
    limits = httpx.Limits(max_connections=users + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        org = await client.post(
            "/api/organizers",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench password",
            },
        )
        org.raise_for_status()
        headers = {"Authorization": f"Bearer {org.json()['access_token']}"}
        event = await client.post("/api/events", json={"name": "Crowd"}, headers=headers)
        event.raise_for_status()
        code = event.json()["code"]
        timings: dict[str, list[float]] = defaultdict(list)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(one_attendee(client, code, selfie, timings) for _ in range(users))
        )
        wall = time.perf_counter() - started
    failures = [r for r in results if r]
    return {"users": users, "wall_s": wall, "failures": failures, "timings": timings}


def report(result: dict[str, object]) -> None:
    timings: dict[str, list[float]] = result["timings"]  # type: ignore[assignment]
    failures: list[str] = result["failures"]  # type: ignore[assignment]
    print(
        f"crowd of {result['users']}: wall {result['wall_s']:.1f} s, "
        f"failures {len(failures)} ({100 * len(failures) / int(result['users']):.1f}%)"
    )
    print(f"  {'step':<26}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, values in timings.items():
        ms = [v * 1000 for v in values]
        print(
            f"  {name:<26}{len(ms):>5}{statistics.median(ms):>10.0f}"
            f"{percentile(ms, 0.95):>10.0f}{max(ms):>10.0f}"
        )
    for failure in failures[:5]:
        print(f"  failure: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    if args.url:
        report(asyncio.run(run_crowd(args.url, args.users)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            StackConfig(
                data_dir=Path(tmp),
                gateway_port=None,
                auth_port=None,
                events_port=None,
                selfie_port=None,
            )
        ).start()
        try:
            report(asyncio.run(run_crowd(stack.url, args.users)))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
