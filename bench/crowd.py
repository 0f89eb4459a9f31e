"""The crowd that broke the monolith: N attendees at once check the code, pick a
username, register, log in and upload a selfie, all through the gateway.

    python -m bench.crowd [--users 20] [--url http://127.0.0.1:8000]

Without --url it boots the local stack itself (rate limits off: the whole crowd
comes from one address here). The client behaves like the web page: when the
system answers 503/429 with Retry-After (its queues are full, by design, instead
of piling up), it waits that long and tries again, up to 20 times. Prints
p50/p95/max per step (including waits), the number of such back-offs, and the
failures: any attendee who did not get through every step.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from findme_devstack.stack import temporary_stack

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"
MAX_TRIES = 20


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Tally:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    backoffs: Counter[str] = field(default_factory=Counter)


async def post(
    client: httpx.AsyncClient, tally: Tally, step: str, path: str, **kwargs: Any
) -> httpx.Response:
    """POST like a well-behaved client: honour Retry-After on 503/429."""
    started = time.perf_counter()
    for _ in range(MAX_TRIES):
        reply = await client.post(path, **kwargs)
        if reply.status_code not in (429, 503) or "retry-after" not in reply.headers:
            break
        tally.backoffs[step] += 1
        await asyncio.sleep(float(reply.headers["retry-after"]))
    tally.timings[step].append(time.perf_counter() - started)
    return reply


async def one_attendee(client: httpx.AsyncClient, code: str, selfie: bytes, tally: Tally) -> str:
    """Empty string on success, else what went wrong."""
    username = f"u{uuid.uuid4().hex[:10]}"
    account = {"event_code": code, "username": username, "password": "crowd password 1"}
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("check-event-code", "/api/check-event-code", {"json": {"event_code": code}}),
        (
            "check-user-availability",
            "/api/check-user-availability",
            {"json": {"event_code": code, "username": username}},
        ),
        ("register", "/api/register-with-event-code", {"json": account}),
        ("login", "/api/login", {"json": account}),
    ]
    token = ""
    for step, path, kwargs in steps:
        reply = await post(client, tally, step, path, **kwargs)
        if reply.status_code >= 300:
            return f"{step}: {reply.status_code} {reply.text[:120]}"
        if step == "login":
            token = reply.json()["access_token"]
    reply = await post(
        client,
        tally,
        "upload-selfie",
        "/api/upload-selfie",
        files={"file": ("me.jpg", selfie, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    if reply.status_code != 200:
        return f"upload-selfie: {reply.status_code} {reply.text[:120]}"
    return ""


async def run_crowd(url: str, users: int) -> dict[str, Any]:
    selfie = (FACES / "selfies" / "obama.jpg").read_bytes()
    limits = httpx.Limits(max_connections=users + 10, keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
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
        tally = Tally()
        started = time.perf_counter()
        results = await asyncio.gather(
            *(one_attendee(client, event.json()["code"], selfie, tally) for _ in range(users))
        )
        wall = time.perf_counter() - started
    return {"users": users, "wall_s": wall, "failures": [r for r in results if r], "tally": tally}


def report(result: dict[str, Any]) -> None:
    tally: Tally = result["tally"]
    failures: list[str] = result["failures"]
    users = int(result["users"])
    print(
        f"crowd of {users} at once: wall {result['wall_s']:.1f} s, "
        f"failures {len(failures)} ({100 * len(failures) / users:.1f}%), "
        f"back-offs {sum(tally.backoffs.values())}"
    )
    print(f"  {'step':<26}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'back-offs':>11}")
    for step, values in tally.timings.items():
        ms = [v * 1000 for v in values]
        print(
            f"  {step:<26}{len(ms):>5}{statistics.median(ms):>10.0f}"
            f"{percentile(ms, 0.95):>10.0f}{max(ms):>10.0f}{tally.backoffs[step]:>11}"
        )
    for failure in failures[:5]:
        print(f"  failure: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--url", default="", help="an already running gateway")
    args = parser.parse_args()
    if args.url:
        report(asyncio.run(run_crowd(args.url, args.users)))
        return
    # The whole crowd comes from one address here: the per-address limits stay off.
    with temporary_stack({"FINDME_GATEWAY_RATE_LIMIT_ENABLED": "false"}) as stack:
        report(asyncio.run(run_crowd(stack.url, args.users)))


if __name__ == "__main__":
    main()
