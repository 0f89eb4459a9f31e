"""What the metrics cost: logins/s and check-event-code requests/s through the
gateway with metrics on and with every service's metrics off
(``FINDME_<SERVICE>_METRICS_ENABLED=false``), in one run.

    uv run python -m bench.metrics_overhead [--quick] [--rounds R]

Two stacks run side by side (one with metrics, one without; the same settings
otherwise, rate limits off); rounds alternate between them so a machine that drifts
moves both sides alike. Each round: valid logins at bcrypt cost 12 from 4 clients,
then check-event-code from 16 clients for a fixed time. The ratio is on / off of the
median round (target >= 0.95 each).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

import httpx
from findme_devstack.stack import Stack, temporary_stack

TARGET_RATIO = 0.95
PASSWORD = "bench login password"
SERVICES = ("GATEWAY", "AUTH", "EVENTS", "SELFIE", "WORKER")
COMMON = {
    "FINDME_GATEWAY_RATE_LIMIT_ENABLED": "false",
    "FINDME_GATEWAY_ACCESS_LOG": "false",
    "FINDME_SELFIE_WORKERS": "1",
}


@dataclass
class Target:
    name: str
    stack: Stack
    code: str = ""
    accounts: tuple[str, ...] = ()
    dropped: int = 0


async def prepare(target: Target, accounts: int) -> None:
    async with httpx.AsyncClient(base_url=target.stack.url, timeout=60) as http:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        signed = await http.post("/api/organizers", json={"email": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        event = (await http.post("/api/events", json={"name": "bench"}, headers=headers)).json()
        target.code = event["code"]
        names = []
        for i in range(accounts):
            name = f"user{i}"
            body = {"event_code": target.code, "username": name, "password": PASSWORD}
            reply = await http.post("/api/register-with-event-code", json=body)
            reply.raise_for_status()
            names.append(name)
        target.accounts = tuple(names)


async def logins_per_second(target: Target, logins: int) -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(logins):
        queue.put_nowait(target.accounts[i % len(target.accounts)])

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            name = queue.get_nowait()
            body = {"event_code": target.code, "username": name, "password": PASSWORD}
            reply = await http.post("/api/login", json=body)
            reply.raise_for_status()

    async with httpx.AsyncClient(base_url=target.stack.url, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(len(target.accounts))))
        return logins / (time.perf_counter() - started)


async def checks_per_second(target: Target, seconds: float, clients: int = 16) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            try:
                reply = await http.post("/api/check-event-code", json={"event_code": target.code})
            except httpx.TransportError:
                # A kept-alive connection the server closed meanwhile: not an answer.
                target.dropped += 1
                continue
            reply.raise_for_status()
            done += 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=target.stack.url, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return done / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)
    logins, seconds = (24, 4.0) if args.quick else (48, 8.0)
    off = {f"FINDME_{service}_METRICS_ENABLED": "false" for service in SERVICES}
    results: dict[str, dict[str, list[float]]] = {
        name: {"logins": [], "checks": []} for name in ("on", "off")
    }
    with contextlib.ExitStack() as stacks:
        targets = [
            Target("on", stacks.enter_context(temporary_stack(COMMON))),
            Target("off", stacks.enter_context(temporary_stack({**COMMON, **off}))),
        ]
        for target in targets:
            asyncio.run(prepare(target, accounts=4))
            asyncio.run(checks_per_second(target, 1.0))  # warm caches and connections
        for round_ in range(rounds):
            order = targets if round_ % 2 == 0 else targets[::-1]
            for target in order:
                results[target.name]["logins"].append(
                    asyncio.run(logins_per_second(target, logins))
                )
                results[target.name]["checks"].append(
                    asyncio.run(checks_per_second(target, seconds))
                )
    ok = True
    for measure, unit in (("logins", "logins/s"), ("checks", "check-event-code req/s")):
        on = statistics.median(results["on"][measure])
        off_value = statistics.median(results["off"][measure])
        ratio = on / off_value
        ok &= ratio >= TARGET_RATIO
        print(
            f"{unit}: metrics on {on:.1f}, off {off_value:.1f}: ratio {ratio:.3f} "
            f"(target >= {TARGET_RATIO}; medians of {rounds} alternating rounds)"
        )
    print(f"connections dropped: on {targets[0].dropped}, off {targets[1].dropped}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
