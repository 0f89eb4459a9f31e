"""Selfies per second: the service against the face library itself, same images, one run.

    python -m bench.selfie_throughput [--quick] [--workers N] [--rounds R] [--passes P]

Three ways to turn the 13 accepted selfies of ../shared/faces (selfies/ and variants/)
into (stored JPEG, one encoding), each kept busy on all N cores:

- raw: a multiprocessing pool of N processes running face_recognition directly: JPEG
  decode with draft, <= 800 px, HOG upsample 0, one encoding, 600 px JPEG at q85. Images
  are preloaded in the workers and nothing comes back, so this is the ceiling.
- gRPC: ProcessSelfie on the real selfie server (its pool of N workers), 2N calls in
  flight from this process.
- gateway: authenticated POST /api/upload-selfie through the real stack (gateway, auth,
  events + PostgreSQL, selfie), 3N attendees uploading at once, rate limit off. It also
  stores the selfie and recomputes matches, and shares the cores with all of that.

The three alternate in R short rounds so a noisy neighbour hits each alike. The table
gives each path's overall rate (all its selfies over all its time) and the median of
the per-round ratios to raw. It also gives the CPU time each path costs per selfie,
summed over every process that path needs (raw: the pool; gRPC: the selfie server and
its workers; gateway: every service, PostgreSQL and Redis): wall time swings with a
neighbour's load, CPU time hardly does, and cores / CPU-per-selfie is the rate on a
quiet machine.
Peak memory per worker is the kernel's high-water mark (VmHWM) of each worker process,
with PSS (its fair share of pages shared with the forkserver) beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"
SELFIES = sorted(
    f"{folder}/{path.name}"
    for folder in ("selfies", "variants")
    for path in (FACES / folder).iterdir()
    if path.suffix in (".jpg", ".png")
)

# --- raw: the library alone --------------------------------------------------------

_raw_images: list[bytes] = []


def _raw_init(paths: list[str]) -> None:
    import face_recognition
    import numpy as np

    _raw_images.extend(Path(p).read_bytes() for p in paths)
    blank = np.zeros((64, 64, 3), dtype=np.uint8)
    face_recognition.face_encodings(blank, known_face_locations=[(8, 56, 56, 8)])


def _raw_selfie(index: int) -> int:
    """The library's selfie pipeline; returns the number of faces found."""
    import face_recognition
    import numpy as np
    from PIL import Image, ImageOps

    opened = Image.open(io.BytesIO(_raw_images[index]))
    if opened.format == "JPEG":
        # Ask for the size that fits 800 px (not an 800x800 box, which would keep a
        # tall or wide photo at full size): the best the library allows.
        scale = min(1.0, 800 / max(opened.size))
        opened.draft("RGB", (round(opened.width * scale), round(opened.height * scale)))
    image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((800, 800), Image.Resampling.BILINEAR)
    pixels = np.asarray(image)
    boxes = face_recognition.face_locations(pixels, 0, "hog")
    face_recognition.face_encodings(pixels, known_face_locations=boxes[:1])
    image.thumbnail((600, 600), Image.Resampling.BICUBIC)
    image.save(io.BytesIO(), "JPEG", quality=85)
    return len(boxes)


def run_raw(pool: Pool, jobs: list[int]) -> float:
    started = time.perf_counter()
    found = list(pool.imap_unordered(_raw_selfie, jobs, chunksize=1))
    seconds = time.perf_counter() - started
    if min(found) < 1:
        raise SystemExit("raw pipeline found no face in a selfie")
    return seconds


# --- gRPC and gateway clients ----------------------------------------------------


async def run_concurrently(
    jobs: list[int], concurrency: int, call: Callable[[int, int], Awaitable[None]]
) -> float:
    """``call(lane, job)`` for every job, ``concurrency`` at a time; wall seconds."""
    queue = list(reversed(jobs))

    async def lane(number: int) -> None:
        while queue:
            await call(number, queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(lane(n) for n in range(concurrency)))
    return time.perf_counter() - started


@dataclass
class Clients:
    images: list[bytes]
    selfie_target: str
    gateway_url: str
    concurrency: int
    # Uploads also wait on events and PostgreSQL, so more are needed in flight to keep
    # the selfie workers busy; at most the selfie queue's capacity (3 x workers), so
    # none is refused as overloaded.
    upload_concurrency: int
    tokens: list[str] = field(default_factory=list)

    async def grpc(self, jobs: list[int]) -> float:
        import grpc
        from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc

        options = [("grpc.max_send_message_length", 32 * 1024 * 1024)]
        async with grpc.aio.insecure_channel(self.selfie_target, options=options) as channel:
            stub = selfie_pb2_grpc.SelfieServiceStub(channel)

            async def call(_lane: int, job: int) -> None:
                request = selfie_pb2.ProcessSelfieRequest(image=self.images[job])
                reply = await stub.ProcessSelfie(request, timeout=120)
                assert len(reply.encoding) == 128

            return await run_concurrently(jobs, self.concurrency, call)

    async def register(self) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=self.gateway_url, timeout=60) as client:
            org = await client.post(
                "/api/organizers",
                json={"email": f"b{uuid.uuid4().hex[:8]}@example.com", "password": "bench pw 1"},
            )
            org.raise_for_status()
            event = await client.post(
                "/api/events",
                json={"name": "Throughput"},
                headers={"Authorization": f"Bearer {org.json()['access_token']}"},
            )
            event.raise_for_status()
            for _ in range(self.upload_concurrency):
                reply = await client.post(
                    "/api/register-with-event-code",
                    json={
                        "event_code": event.json()["code"],
                        "username": f"u{uuid.uuid4().hex[:10]}",
                        "password": "attendee password 1",
                    },
                )
                reply.raise_for_status()
                self.tokens.append(reply.json()["access_token"])

    async def gateway(self, jobs: list[int]) -> float:
        import httpx

        limits = httpx.Limits(max_connections=self.upload_concurrency + 2)
        async with httpx.AsyncClient(
            base_url=self.gateway_url, timeout=120, limits=limits
        ) as client:

            async def call(lane: int, job: int) -> None:
                reply = await client.post(
                    "/api/upload-selfie",
                    files={"file": ("selfie", self.images[job], "application/octet-stream")},
                    headers={"Authorization": f"Bearer {self.tokens[lane]}"},
                )
                if reply.status_code != 200:
                    raise SystemExit(f"upload-selfie: {reply.status_code} {reply.text[:200]}")

            return await run_concurrently(jobs, self.upload_concurrency, call)


# --- memory ------------------------------------------------------------------------


def _proc_kib(path: str, key: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def service_worker_pids(server_pid: int) -> list[int]:
    """The selfie pool's workers: children of the forkserver the server started."""
    forkservers = [c for c in _children(server_pid) if "forkserver" in _cmdline(c)]
    return [worker for fs in forkservers for worker in _children(fs)]


_TICKS = os.sysconf("SC_CLK_TCK")


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(_children(pid))
    return found


def cpu_seconds(roots: list[int]) -> float:
    """CPU time used so far by ``roots`` and everything below them (live processes,
    plus the children they have already reaped)."""
    total = 0
    for pid in {p for root in roots for p in _descendants(root)}:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / _TICKS


def memory_row(name: str, pids: list[int]) -> str:
    if not pids:
        return f"| {name} | - | - | - |"
    peaks = [_proc_kib(f"/proc/{p}/status", "VmHWM") / 1024 for p in pids]
    pss = [_proc_kib(f"/proc/{p}/smaps_rollup", "Pss") / 1024 for p in pids]
    return (
        f"| {name} | {len(pids)} | {max(peaks):.0f} (all: {', '.join(f'{v:.0f}' for v in peaks)})"
        f" | {max(pss):.0f} |"
    )


# --- the run -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 8")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--passes", type=int, default=2, help="passes over the images per run")
    parser.add_argument("--no-gateway", action="store_true", help="skip the gateway path")
    args = parser.parse_args()
    rounds, passes = (3 if args.quick else args.rounds), args.passes
    workers = args.workers
    images = [(FACES / name).read_bytes() for name in SELFIES]
    jobs = [i for _ in range(passes) for i in range(len(images))]

    # The raw pool is spawned before this process opens any gRPC channel.
    raw_pool = multiprocessing.get_context("spawn").Pool(
        workers, initializer=_raw_init, initargs=([str(FACES / n) for n in SELFIES],)
    )
    from findme_devstack.stack import temporary_stack

    stack_env = {
        "FINDME_SELFIE_WORKERS": str(workers),
        "FINDME_GATEWAY_RATE_LIMIT_ENABLED": "false",
        "FINDME_GATEWAY_ACCESS_LOG": "false",
    }
    with temporary_stack(stack_env) as stack:
        try:
            clients = Clients(
                images=images,
                selfie_target=f"127.0.0.1:{stack.ports['selfie']}",
                gateway_url=stack.url,
                concurrency=2 * workers,
                upload_concurrency=3 * workers,
            )
            asyncio.run(clients.register())
            paths: dict[str, Callable[[list[int]], float]] = {
                "raw face_recognition pool": lambda js: run_raw(raw_pool, js),
                "gRPC ProcessSelfie": lambda js: asyncio.run(clients.grpc(js)),
            }
            if not args.no_gateway:
                paths["gateway POST /api/upload-selfie"] = lambda js: asyncio.run(
                    clients.gateway(js)
                )
            # Whose CPU time each path costs (never this process, the load generator).
            server_pid = stack.processes["selfie"].pid
            parts = stack.pids()
            stack_pids = [pid for pids in parts.values() for pid in pids]
            by_part: dict[str, float] = dict.fromkeys(parts, 0.0)
            raw_pids = [p.pid for p in multiprocessing.active_children() if p.pid]
            owners = dict(zip(paths, [raw_pids, [server_pid], stack_pids], strict=False))
            warm = list(range(len(images)))
            for run in paths.values():
                run(warm)
            seconds: dict[str, list[float]] = {name: [] for name in paths}
            cpu: dict[str, float] = dict.fromkeys(paths, 0.0)
            for _ in range(rounds):
                for name, run in paths.items():
                    before = cpu_seconds(owners[name])
                    parts_before = {part: cpu_seconds(pids) for part, pids in parts.items()}
                    seconds[name].append(run(jobs))
                    cpu[name] += cpu_seconds(owners[name]) - before
                    if name.startswith("gateway"):
                        for part, pids in parts.items():
                            by_part[part] += cpu_seconds(pids) - parts_before[part]
            report(workers, len(images), len(jobs), seconds)
            print_cpu(len(jobs) * rounds, cpu)
            if not args.no_gateway:
                print(
                    "gateway path, CPU ms per selfie by process: "
                    + ", ".join(
                        f"{part} {1000 * used / (len(jobs) * rounds):.1f}"
                        for part, used in by_part.items()
                    )
                )
            print()
            print("| processes | count | peak RSS MiB (VmHWM) | PSS MiB now |")
            print("|---|---|---|---|")
            print(memory_row("raw pool workers", raw_pids))
            print(memory_row("selfie service workers", service_worker_pids(server_pid)))
            print(memory_row("selfie gRPC process (no dlib)", [server_pid]))
        finally:
            raw_pool.terminate()
            raw_pool.join()


def report(workers: int, images: int, per_run: int, seconds: dict[str, list[float]]) -> None:
    raw = next(iter(seconds.values()))
    print(
        f"{images} selfies x {per_run // images} passes = {per_run} per run, {workers} workers "
        f"(cpu count {os.cpu_count()}), {len(raw)} alternating rounds"
    )
    print()
    print(
        "| path | selfies/s (all rounds) | selfies/s per round | ratio to raw "
        "(median of rounds) | ratio range | target |"
    )
    print("|---|---|---|---|---|---|")
    for name, times in seconds.items():
        ratios = [r / t for r, t in zip(raw, times, strict=True)]
        target = "-" if times is raw else ">= 0.85"
        print(
            f"| {name} | {per_run * len(times) / sum(times):.2f} "
            f"| {', '.join(f'{per_run / t:.1f}' for t in times)} "
            f"| {statistics.median(ratios):.2f} | {min(ratios):.2f}-{max(ratios):.2f} | {target} |"
        )


def print_cpu(selfies: int, cpu: dict[str, float]) -> None:
    """CPU per selfie barely moves with a neighbour's load, unlike wall time: on a quiet
    machine the rate is cores / CPU per selfie, so this ratio is what the service
    would reach there."""
    raw = next(iter(cpu.values())) / selfies
    print()
    print("| path | CPU ms per selfie (all processes it needs) | capacity ratio to raw |")
    print("|---|---|---|")
    for name, total in cpu.items():
        per = total / selfies
        print(f"| {name} | {per * 1000:.0f} | {raw / per:.2f} |")


if __name__ == "__main__":
    main()
