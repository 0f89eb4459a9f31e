"""Logins per second through the gateway at bcrypt cost 12, next to raw
``bcrypt.checkpw`` at cost 12 on every core in the same run, and how the cheap
``POST /api/check-event-code`` holds up while the login flood saturates auth.

    uv run python -m bench.logins [--quick] [--logins N] [--concurrency C] [--probe-rate R]
                                  [--boost NICE]

On a machine shared with other work, ``--boost -10`` (Linux, root) raises the
scheduling weight of the benchmark's own sessions so the neighbours distort less.

Boots the real stack (embedded PostgreSQL + Redis, the four services) on free ports
with the gateway's rate limit off; registers enough attendees (not measured), then:

1. raw: ``bcrypt.checkpw`` on a thread pool of ``os.cpu_count()`` threads, in a
   child process with its own session like each service (Linux autogroup shares CPU
   per session), half the checks before the flood and half after it (a shared machine
   drifts; the mean of both sides is the baseline);
2. flood: N valid logins through ``POST /api/login`` from C concurrent clients, each
   attendee logging in at most once at a time (so per-account throttling never
   triggers) and every login valid (so the per-address counter is refunded each time);
   meanwhile a probe fires ``check-event-code`` at a fixed rate (open loop: a slow
   answer does not delay the next request).

It prints logins/s, raw checks/s and their ratio (target >= 0.85), the probe's
latencies idle and under the flood, and the CPU seconds each process spent per
login, to show where the 2 cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import httpx
from findme_devstack.stack import Stack, temporary_stack

COST = 12
PASSWORD = "bench login password"
TARGET_RATIO = 0.85
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- raw bcrypt ---------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    per_second: float
    # CPU this process spent per check: what one login's bcrypt costs auth at best.
    cpu_per_check: float


def raw_checks(checks: int, threads: int) -> Raw:
    """``checks`` bcrypt.checkpw at COST on ``threads`` threads (bcrypt drops the GIL)."""
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(COST))
    password = PASSWORD.encode()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Threads are started before the clock runs.
        list(pool.map(lambda _: None, range(threads)))
        started, cpu_started = time.perf_counter(), time.process_time()
        results = list(pool.map(lambda _: bcrypt.checkpw(password, stored), range(checks)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if not all(results):
        raise RuntimeError("raw bcrypt check failed")
    return Raw(per_second=checks / elapsed, cpu_per_check=cpu / checks)


def raw_checks_in_own_session(checks: int, threads: int, *, boost: int | None = None) -> Raw:
    """``raw_checks`` in a child process with a session of its own, as auth has.

    Linux's autogroup scheduler shares CPU between sessions, not threads: on a busy
    machine a service started in its own session (as devstack starts them) would get
    a different share than threads of this process, and the ratio would measure the
    scheduler instead of the service.
    """
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.logins",
            "--raw-only",
            str(checks),
            "--threads",
            str(threads),
            *(() if boost is None else ("--boost", str(boost))),
        ],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    return Raw(**json.loads(out.strip().splitlines()[-1]))


def set_autogroup_nice(pid: int, nice: int) -> bool:
    """Weight the scheduling group (session) of ``pid``; Linux, root for nice < 0."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:
        return False
    return True


def _autogroup_nice() -> int | None:
    try:
        return int(Path("/proc/self/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


# --- CPU accounting ----------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, int, float] | None:
    """(ppid, session id, CPU seconds) of ``pid``, None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its last ")".
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid, session = int(fields[1]), int(fields[3])
    utime, stime = int(fields[11]), int(fields[12])
    return ppid, session, (utime + stime) / CLOCK_TICKS


def _all_processes() -> dict[int, tuple[int, int, float]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                table[int(entry.name)] = stat
    return table


def _machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent not idle since boot."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(v) for v in first]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU seconds per part of the system, from /proc (Linux)."""

    stack: Stack

    def sample(self) -> dict[str, float]:
        table = _all_processes()
        groups: dict[str, set[int]] = {}
        # Each service runs in a session of its own (pool workers included).
        for name, process in self.stack.processes.items():
            groups[name] = {pid for pid, (_, sid, _) in table.items() if sid == process.pid}
        stores = self.stack.pids()
        for postmaster in stores.get("postgres", []):
            groups["postgres"] = {postmaster} | {
                pid for pid, (ppid, _, _) in table.items() if ppid == postmaster
            }
        if "redis" in stores:
            groups["redis"] = set(stores["redis"])
        groups["bench client"] = {os.getpid()}
        sample = {
            name: sum(table[p][2] for p in pids if p in table) for name, pids in groups.items()
        }
        sample["whole machine"] = _machine_busy_seconds()
        return sample


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    # Postgres backends that exited between samples drop out; their CPU is lost, which
    # only makes postgres look cheaper (negligible here: connections are pooled).
    return {name: max(0.0, after.get(name, 0.0) - before.get(name, 0.0)) for name in before}


# --- the flood ---------------------------------------------------------------------


@dataclass
class Probe:
    """check-event-code at a fixed rate, open loop."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: int = 0

    async def run(
        self, client: httpx.AsyncClient, code: str, rate: float, stop: asyncio.Event
    ) -> None:
        pending: set[asyncio.Task[None]] = set()
        interval = 1.0 / rate
        next_at = time.perf_counter()
        while not stop.is_set():
            task = asyncio.create_task(self._one(client, code))
            self.sent += 1
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.gather(*pending)

    async def _one(self, client: httpx.AsyncClient, code: str) -> None:
        started = time.perf_counter()
        try:
            reply = await client.post("/api/check-event-code", json={"event_code": code})
        except httpx.HTTPError as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return
        self.latencies.append(time.perf_counter() - started)
        if reply.status_code != 200 or reply.json().get("valid") is not True:
            self.errors.append(f"{reply.status_code} {reply.text[:120]}")


@dataclass
class Flood:
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def login_flood(
    client: httpx.AsyncClient, code: str, usernames: list[str], logins: int, concurrency: int
) -> Flood:
    flood = Flood()
    # Round robin: with more attendees than clients, no attendee is in flight twice.
    order = itertools.islice(itertools.cycle(usernames), logins)

    async def worker() -> None:
        for username in order:
            started = time.perf_counter()
            reply = await client.post(
                "/api/login",
                json={"event_code": code, "username": username, "password": PASSWORD},
            )
            flood.latencies.append(time.perf_counter() - started)
            if reply.status_code != 200:
                flood.errors.append(f"{reply.status_code} {reply.text[:160]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    flood.elapsed = time.perf_counter() - started
    return flood


async def register(client: httpx.AsyncClient, count: int) -> tuple[str, list[str]]:
    org = await client.post(
        "/api/organizers",
        json={"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
    )
    org.raise_for_status()
    headers = {"Authorization": f"Bearer {org.json()['access_token']}"}
    event = await client.post("/api/events", json={"name": "Login flood"}, headers=headers)
    event.raise_for_status()
    code = str(event.json()["code"])
    usernames = [f"guest_{i}_{uuid.uuid4().hex[:6]}" for i in range(count)]
    gate = asyncio.Semaphore(8)

    async def one(username: str) -> None:
        async with gate:
            reply = await client.post(
                "/api/register-with-event-code",
                json={"event_code": code, "username": username, "password": PASSWORD},
            )
            if reply.status_code != 201:
                raise RuntimeError(f"register {username}: {reply.status_code} {reply.text}")

    await asyncio.gather(*(one(name) for name in usernames))
    return code, usernames


@dataclass
class Result:
    logins: int
    concurrency: int
    threads: int
    raw_before: Raw
    raw_after: Raw
    flood: Flood
    idle_probe: Probe
    flood_probe: Probe
    cpu: dict[str, float]
    # CPU seconds per probe request (background subtracted), per process.
    idle_cpu: dict[str, float]
    # CPU seconds per wall second with nothing to do, per process.
    quiet_cpu: dict[str, float]

    @property
    def raw(self) -> float:
        return (self.raw_before.per_second + self.raw_after.per_second) / 2

    @property
    def raw_cpu_per_check(self) -> float:
        return (self.raw_before.cpu_per_check + self.raw_after.cpu_per_check) / 2

    @property
    def logins_per_second(self) -> float:
        return self.logins / self.flood.elapsed


async def measure(
    stack: Stack,
    *,
    logins: int,
    concurrency: int,
    probe_rate: float,
    raw_in_thread: Callable[[int], Raw],
) -> Result:
    # uvicorn drops a keep-alive connection idle for 5 s, httpx's default expiry is
    # also 5 s: a request sent on a connection the server is closing at that moment
    # fails with ReadError (seen after the raw phase's pause). Expire ours first.
    limits = httpx.Limits(
        max_connections=concurrency + 4,
        max_keepalive_connections=concurrency + 4,
        keepalive_expiry=2.0,
    )
    probe_limits = httpx.Limits(keepalive_expiry=2.0)
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=60, limits=limits) as client,
        httpx.AsyncClient(base_url=stack.url, timeout=60, limits=probe_limits) as probe_client,
    ):
        code, usernames = await register(client, max(2 * concurrency, 16))
        # Warm-up: connections, gRPC channels, caches, code paths.
        warm = await login_flood(client, code, usernames, concurrency, concurrency)
        if warm.errors:
            raise RuntimeError(f"warm-up logins failed: {warm.errors[:3]}")

        meter = CpuMeter(stack)
        # What the stack burns doing nothing (health checks, queue polling), then the
        # probe alone: its latency when idle and its CPU per request. Both are subtracted
        # below to get what one login costs each process.
        window = max(3.0, 40 / probe_rate)
        before = meter.sample()
        quiet_started = time.perf_counter()
        await asyncio.sleep(window)
        quiet_elapsed = time.perf_counter() - quiet_started
        quiet_cpu = {k: v / quiet_elapsed for k, v in cpu_delta(before, meter.sample()).items()}
        idle_probe = Probe()
        stop = asyncio.Event()
        before = meter.sample()
        probe_started = time.perf_counter()
        probing = asyncio.create_task(idle_probe.run(probe_client, code, probe_rate, stop))
        await asyncio.sleep(window)
        stop.set()
        await probing
        probe_elapsed = time.perf_counter() - probe_started
        idle_cpu = {
            k: max(0.0, v - quiet_cpu.get(k, 0.0) * probe_elapsed)
            for k, v in cpu_delta(before, meter.sample()).items()
        }

        raw_before = await asyncio.to_thread(raw_in_thread, logins // 2)

        flood_probe = Probe()
        stop = asyncio.Event()
        before = meter.sample()
        probing = asyncio.create_task(flood_probe.run(probe_client, code, probe_rate, stop))
        flood = await login_flood(client, code, usernames, logins, concurrency)
        stop.set()
        await probing
        cpu = cpu_delta(before, meter.sample())

        raw_after = await asyncio.to_thread(raw_in_thread, logins - logins // 2)
    return Result(
        logins=logins,
        concurrency=concurrency,
        threads=os.cpu_count() or 1,
        raw_before=raw_before,
        raw_after=raw_after,
        flood=flood,
        idle_probe=idle_probe,
        flood_probe=flood_probe,
        cpu=cpu,
        idle_cpu=idle_cpu,
        quiet_cpu=quiet_cpu,
    )


# --- report --------------------------------------------------------------------------


def report(result: Result) -> None:
    ratio = result.logins_per_second / result.raw
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    flood = result.flood
    ms = [v * 1000 for v in flood.latencies]
    print(
        f"\nLogins at bcrypt cost {COST}: {result.logins} valid logins, "
        f"{result.concurrency} concurrent clients, {os.cpu_count()} cores"
    )
    print(f"  {'measure':<44}{'per second':>12}")
    print(
        f"  {'raw bcrypt.checkpw, ' + str(result.threads) + ' threads, before':<44}"
        f"{result.raw_before.per_second:>12.2f}"
    )
    print(
        f"  {'raw bcrypt.checkpw, ' + str(result.threads) + ' threads, after':<44}"
        f"{result.raw_after.per_second:>12.2f}"
    )
    print(f"  {'raw bcrypt.checkpw (mean: the baseline)':<44}{result.raw:>12.2f}")
    print(f"  {'POST /api/login through the gateway':<44}{result.logins_per_second:>12.2f}")
    print(f"  ratio logins / raw = {ratio:.2f}  (target >= {TARGET_RATIO}: {verdict})")
    print(
        f"  login latency ms: p50 {statistics.median(ms):.0f}, p95 {percentile(ms, 0.95):.0f}, "
        f"max {max(ms):.0f}; failures {len(flood.errors)}"
    )
    for error in flood.errors[:5]:
        print(f"    failure: {error}")

    print("\nPOST /api/check-event-code (open-loop probe)")
    print(f"  {'when':<22}{'sent':>6}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for name, probe in (("idle", result.idle_probe), ("during login flood", result.flood_probe)):
        lat = [v * 1000 for v in probe.latencies]
        print(
            f"  {name:<22}{probe.sent:>6}{len(probe.errors):>8}{percentile(lat, 0.5):>9.1f}"
            f"{percentile(lat, 0.95):>9.1f}{percentile(lat, 1.0):>9.1f}"
        )
        for error in probe.errors[:3]:
            print(f"    error: {error}")

    cores = os.cpu_count() or 1
    window = flood.elapsed
    capacity = window * cores
    machine = result.cpu["whole machine"]
    parts = {k: v for k, v in result.cpu.items() if k != "whole machine"}
    idle_sent = max(1, result.idle_probe.sent)
    flood_sent = result.flood_probe.sent
    print(
        f"\nCPU during the flood ({window:.1f} s wall x {cores} cores = {capacity:.1f} "
        f"core-seconds; {flood_sent} probes ran alongside)"
    )
    print(f"  {'process':<20}{'core-s':>8}{'% of cores':>12}{'ms/probe':>10}{'ms/login':>10}")
    login_ms: dict[str, float] = {}
    for name, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        per_probe = result.idle_cpu.get(name, 0.0) / idle_sent
        background = result.quiet_cpu.get(name, 0.0) * window
        login_ms[name] = max(
            0.0, 1000 * (seconds - background - per_probe * flood_sent) / result.logins
        )
        print(
            f"  {name:<20}{seconds:>8.2f}{100 * seconds / capacity:>11.0f}%"
            f"{1000 * per_probe:>10.2f}{login_ms[name]:>10.1f}"
        )
    others = max(0.0, machine - sum(parts.values()))
    print(f"  {'(not this stack)':<20}{others:>8.2f}{100 * others / capacity:>11.0f}%")
    print(f"  {'whole machine busy':<20}{machine:>8.2f}{100 * machine / capacity:>11.0f}%")
    bcrypt_ms = 1000 * result.raw_cpu_per_check
    auth_ms = login_ms.get("auth", 0.0)
    rest_ms = sum(v for k, v in login_ms.items() if k != "auth")
    print(
        f"  ms/login leaves out the probe's share and the stack's idle background (both\n"
        f"  measured before the flood, without logins).\n"
        f"  One raw check costs {bcrypt_ms:.1f} ms of CPU; a login costs auth "
        f"{auth_ms - bcrypt_ms:+.1f} ms beyond that and every other process {rest_ms:.1f} ms.\n"
        f"  CPU-bound ceiling of the ratio on cores nobody else uses: "
        f"{bcrypt_ms / max(bcrypt_ms, auth_ms + rest_ms):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer logins (about a minute)")
    parser.add_argument("--logins", type=int, default=0, help="logins in the flood")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="concurrent login clients (default 4 per core: keeps auth's pool full)",
    )
    parser.add_argument("--probe-rate", type=float, default=10.0, help="check-event-code per s")
    parser.add_argument(
        "--boost",
        type=int,
        default=None,
        metavar="NICE",
        help=(
            "give the stack's and the raw run's sessions this autogroup nice (e.g. -10; "
            "Linux, root) so other load on a shared machine distorts the ratio less"
        ),
    )
    parser.add_argument("--raw-only", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    own_nice: int | None = None
    if args.raw_only:
        # Child mode of raw_checks_in_own_session: one JSON line on stdout.
        if args.boost is not None:
            set_autogroup_nice(os.getpid(), args.boost)
        raw = raw_checks(args.raw_only, args.threads or cores)
        print(json.dumps({"per_second": raw.per_second, "cpu_per_check": raw.cpu_per_check}))
        return
    logins = args.logins or (40 if args.quick else 200)
    concurrency = args.concurrency or 4 * cores

    print("booting the stack ...", flush=True)
    with temporary_stack(
        {"FINDME_GATEWAY_RATE_LIMIT_ENABLED": "false", "FINDME_AUTH_BCRYPT_ROUNDS": str(COST)},
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
    ) as stack:
        own_nice = None
        if args.boost is not None:
            pids = [pid for part in stack.pids().values() for pid in part]
            # This process too: it is the load generator. Its session is restored below.
            own_nice = _autogroup_nice()
            pids.append(os.getpid())
            boosted = [pid for pid in pids if set_autogroup_nice(pid, args.boost)]
            print(f"autogroup nice {args.boost} on {len(boosted)} of {len(pids)} sessions")
        try:
            result = asyncio.run(
                measure(
                    stack,
                    logins=logins,
                    concurrency=concurrency,
                    probe_rate=args.probe_rate,
                    raw_in_thread=lambda n: raw_checks_in_own_session(n, cores, boost=args.boost),
                )
            )
        finally:
            if own_nice is not None:
                set_autogroup_nice(os.getpid(), own_nice)
    report(result)


if __name__ == "__main__":
    main()
