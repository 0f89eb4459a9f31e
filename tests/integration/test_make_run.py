"""`make run`'s launcher, twice at the same moment: each stack gets its own ports
and data; under a light mixed load, every part killed with SIGKILL comes back by
itself while the rest keeps serving; Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest
from findme_devstack import faces
from findme_devstack.embedded import free_port

# What each endpoint of the load needs, besides the gateway.
NEEDS = {
    "page": set(),
    "lookup": {"events", "postgres"},
    "my_photos": {"events", "postgres"},
    "login": {"events", "postgres", "auth"},
    "selfie": {"selfie", "events", "postgres"},
}
# The process a part's SIGKILL goes to: its command line contains this.
PROCESS = {
    "selfie": "-m findme_selfie",
    "auth": "-m findme_auth",
    "events": "-m findme_events",
    "worker": "-m findme_photo_worker",
    "redis": "redis-server",
}
# The /health component a part's absence shows in.
COMPONENT = {
    "selfie": "selfie",
    "auth": "auth",
    "events": "events",
    "worker": "photo_worker",
    "redis": "cache",
    "postgres": "database",
}
# Seconds from SIGKILL until everything answers again, on cores of its own. On a
# shared machine the restarted process gets only its share of the cores, so the
# limit is scaled by how contended they are (``cpu_share``), measured around each kill.
RECOVERY_LIMIT = 10.0

_SPIN = (
    "import time\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "while time.perf_counter() - wall < 0.5: pass\n"
    "print((time.process_time() - cpu) / (time.perf_counter() - wall))"
)


def cpu_share() -> float:
    """The share of one core a new CPU-bound process gets right now (1.0: idle cores)."""
    spin = subprocess.run([sys.executable, "-c", _SPIN], capture_output=True, text=True, check=True)
    return max(0.05, min(1.0, float(spin.stdout)))


@dataclass
class Launcher:
    process: subprocess.Popen[str]
    data_dir: Path
    output: list[str] = field(default_factory=list)
    url: str = ""

    def read_until_ready(self, deadline: float) -> None:
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "Press Ctrl-C" in line:
                match = re.search(r"web:\s+(http://127\.0\.0\.1:\d+)/", "".join(self.output))
                assert match, self.output
                self.url = match[1]
                # Keep draining the launcher's log so it never blocks on a full pipe.
                threading.Thread(target=self._drain, daemon=True).start()
                return
        raise AssertionError("launcher not ready:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def descendants(self) -> list[psutil.Process]:
        found = psutil.Process(self.process.pid).children(recursive=True)
        # PostgreSQL is started by pg_ctl and leaves the launcher's tree.
        found += [
            p
            for p in psutil.process_iter(["cmdline"])
            if str(self.data_dir) in " ".join(p.info["cmdline"] or [])
        ]
        return list({p.pid: p for p in found}.values())

    def pid_of(self, part: str) -> int:
        if part == "postgres":
            return int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        for child in psutil.Process(self.process.pid).children():
            with_args = " ".join(child.cmdline())
            if PROCESS[part] in with_args:
                return child.pid
        raise AssertionError(f"no {part} process under the launcher")

    def ports(self) -> dict[str, int]:
        run = self.data_dir / "run"
        return {path.stem: int(path.read_text()) for path in run.glob("*.port")}


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "FINDME_DATA_DIR": str(data_dir),
            "FINDME_GATEWAY_PORT": str(port),
            "FINDME_SELFIE_WORKERS": "1",
            "FINDME_AUTH_WORKERS": "1",
            # Component health every half second, so a short gap shows in /health.
            "FINDME_EVENTS_HEALTH_INTERVAL": "0.5",
        }
    )
    return env


@pytest.fixture(scope="module")
def launchers(server_data_dir: Callable[[str], Path]) -> Iterator[tuple[Launcher, Launcher]]:
    """Two `make run`s started at the same moment: one on a chosen port, one on
    any free port (FINDME_GATEWAY_PORT=0)."""
    made = []
    for name, port in (("a", free_port()), ("b", 0)):
        data_dir = server_data_dir(f"make-run-{name}") / "data"
        process = subprocess.Popen(
            [sys.executable, "-m", "findme_devstack"],
            env=_environment(data_dir, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        made.append(Launcher(process, data_dir))
    try:
        deadline = time.monotonic() + 300
        for launcher in made:
            launcher.read_until_ready(deadline)
        yield made[0], made[1]
    finally:
        for launcher in made:
            if launcher.process.poll() is None:
                launcher.process.send_signal(signal.SIGINT)
        for launcher in made:
            try:
                launcher.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                launcher.process.kill()
                launcher.process.wait()
            if launcher.process.stdout is not None:
                launcher.process.stdout.close()


def _organizer(http: httpx.Client) -> dict[str, str]:
    email = f"org-{uuid.uuid4().hex[:8]}@example.com"
    reply = http.post("/api/organizers", json={"email": email, "password": "correct horse 1"})
    assert reply.status_code == 201, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}", "email": email}


def test_two_stacks_started_at_once_have_their_own_ports_and_data(
    launchers: tuple[Launcher, Launcher],
) -> None:
    a, b = launchers
    ports_a, ports_b = a.ports(), b.ports()
    assert set(ports_a) == set(ports_b) == {"auth", "events", "selfie", "gateway"}
    assert not set(ports_a.values()) & set(ports_b.values()), (ports_a, ports_b)
    assert a.url.endswith(f":{ports_a['gateway']}") and b.url.endswith(f":{ports_b['gateway']}")

    with (
        httpx.Client(base_url=a.url, timeout=30) as at_a,
        httpx.Client(base_url=b.url, timeout=30) as at_b,
    ):
        organizer = _organizer(at_a)
        headers = {"Authorization": organizer["Authorization"]}
        event = at_a.post("/api/events", json={"name": "Only in A"}, headers=headers).json()
        # B knows neither A's event nor A's token (its own database and keys)...
        assert at_b.post("/api/check-event-code", json={"event_code": event["code"]}).json() == {
            "valid": False,
            "event": None,
        }
        assert at_b.get("/api/events", headers=headers).status_code == 401
        again = at_b.post(
            "/api/organizers", json={"email": organizer["email"], "password": "another one 1"}
        )
        assert again.status_code == 201, again.text
        # ...and A's next call still lands in A.
        listed = at_a.get("/api/events", headers=headers)
        assert [e["code"] for e in listed.json()["events"]] == [event["code"]]


@dataclass
class Load:
    """A light mixed load on one stack: each endpoint from its own thread, every
    answer recorded with its time, plus /health every 0.1 s."""

    url: str
    results: dict[str, list[tuple[float, int, str | None]]] = field(default_factory=dict)
    health: list[tuple[float, int, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, name: str, call: Callable[[httpx.Client], httpx.Response], pause: float) -> None:
        self.results[name] = []
        with httpx.Client(base_url=self.url, timeout=20) as http:
            while not self.stop.is_set():
                try:
                    reply = call(http)
                    outcome = (
                        time.monotonic(),
                        reply.status_code,
                        reply.headers.get("retry-after"),
                    )
                except httpx.HTTPError:
                    outcome = (time.monotonic(), 0, None)
                self.results[name].append(outcome)
                self.stop.wait(pause)

    def watch_health(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as http:
            while not self.stop.is_set():
                try:
                    reply = http.get("/health")
                    parts = {k: v["status"] for k, v in reply.json()["components"].items()}
                    self.health.append((time.monotonic(), reply.status_code, parts))
                except (httpx.HTTPError, ValueError, KeyError):
                    self.health.append((time.monotonic(), 0, {}))
                self.stop.wait(0.1)

    def since(self, name: str, start: float) -> list[tuple[float, int, str | None]]:
        return [r for r in self.results[name] if r[0] >= start]


def _setup(url: str, selfie: bytes) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    """An event, three attendees with selfies, and the calls of the load."""
    with httpx.Client(base_url=url, timeout=60) as http:
        organizer = _organizer(http)
        event = http.post(
            "/api/events",
            json={"name": "Fault party"},
            headers={"Authorization": organizer["Authorization"]},
        ).json()
        attendees = []
        for n in range(3):
            username = f"guest_{n}_{uuid.uuid4().hex[:4]}"
            reply = http.post(
                "/api/register-with-event-code",
                json={"event_code": event["code"], "username": username, "password": "pass word 1"},
            )
            assert reply.status_code == 201, reply.text
            attendees.append(
                (username, {"Authorization": f"Bearer {reply.json()['access_token']}"})
            )
    turn = iter(range(10**9))

    def selfie_call(http: httpx.Client) -> httpx.Response:
        _, headers = attendees[next(turn) % 3]
        return http.post("/api/upload-selfie", files={"file": ("me.jpg", selfie)}, headers=headers)

    username, headers = attendees[0]
    return {
        "page": lambda http: http.get("/"),
        "lookup": lambda http: http.post(
            "/api/check-event-code", json={"event_code": event["code"]}
        ),
        "my_photos": lambda http: http.get("/api/me/photos", headers=headers),
        "login": lambda http: http.post(
            "/api/login",
            json={"event_code": event["code"], "username": username, "password": "pass word 1"},
        ),
        "selfie": selfie_call,
    }


# Seconds between two calls of each endpoint: about 20 requests/s in all; selfies stay
# under the per-account upload limit (30/min) with three attendees taking turns.
PAUSES = {"page": 0.1, "lookup": 0.1, "my_photos": 0.1, "login": 0.3, "selfie": 2.5}


def _recovered(load: Load, launcher: Launcher, part: str, killed: int, since: float) -> bool:
    """The part runs again (a new process), /health is 200, and every endpoint's
    latest answer, given after that, is a success."""
    try:
        if launcher.pid_of(part) == killed:
            return False
    except (AssertionError, FileNotFoundError, ValueError, psutil.Error):
        return False
    healthy = [t for t, status, _ in load.health if t >= since and status == 200]
    if not healthy:
        return False
    for name in NEEDS:
        answers = load.since(name, healthy[0])
        if not answers or answers[-1][1] >= 400:
            return False
    return True


@pytest.mark.slow
def test_every_part_killed_comes_back_while_the_rest_keeps_serving(
    launchers: tuple[Launcher, Launcher], faces_dir: Path
) -> None:
    launcher = launchers[0]
    load = Load(launcher.url)
    calls = _setup(launcher.url, (faces_dir / faces.OBAMA).read_bytes())
    threads = [
        threading.Thread(target=load.run, args=(name, call, PAUSES[name]), daemon=True)
        for name, call in calls.items()
    ]
    threads.append(threading.Thread(target=load.watch_health, daemon=True))
    for thread in threads:
        thread.start()
    report: list[str] = []
    outages: list[tuple[float, float]] = []
    try:
        time.sleep(3)
        for part in ("selfie", "auth", "events", "worker", "redis", "postgres"):
            share_before = cpu_share()
            killed = launcher.pid_of(part)
            started = time.monotonic()
            os.kill(killed, signal.SIGKILL)
            deadline = started + 60
            while not _recovered(load, launcher, part, killed, started):
                assert time.monotonic() < deadline, f"{part} never came back"
                time.sleep(0.1)
            recovered = time.monotonic()
            share = (share_before + cpu_share()) / 2
            limit = RECOVERY_LIMIT / share
            window = (started, recovered)
            outages.append(window)
            counts = {}
            for name, needs in NEEDS.items():
                answers = [r for r in load.results[name] if window[0] <= r[0] <= window[1]]
                failed = [r for r in answers if r[1] >= 400 or r[1] == 0]
                counts[name] = (len(answers) - len(failed), len(answers))
                if part not in needs:
                    assert not failed, (part, name, failed)
                for _, status, retry_after in failed:
                    assert status == 503 and retry_after, (part, name, status, retry_after)
            gap = [
                t
                for t, status, parts in load.health
                if window[0] <= t <= window[1] and parts.get(COMPONENT[part]) != "ok"
            ]
            report.append(
                f"{part}: answering again after {recovered - started:.1f} s "
                f"(CPU share {share:.2f}, limit {limit:.0f} s); /health showed "
                f"the gap {'for %.1f s' % (gap[-1] - gap[0]) if gap else 'not (too short)'}; "
                + ", ".join(f"{n} {ok}/{total}" for n, (ok, total) in counts.items())
            )
            assert recovered - started <= limit, report[-1]
            if part in ("selfie", "auth", "events", "worker"):
                assert gap, f"/health never reported {part} missing"
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(30)
        print("\n" + "\n".join(report))
    restarts = "".join(launcher.output)
    for part in ("selfie", "auth", "events", "worker", "redis", "postgres"):
        assert f"{part} restarted (restart #1)" in restarts, restarts
    # Outside the outages every call of every endpoint succeeded.
    total = sum(len(answers) for answers in load.results.values())
    assert total > 200
    outside = [
        (name, status)
        for name, answers in load.results.items()
        for t, status, _ in answers
        if not any(begin <= t <= end for begin, end in outages) and not 200 <= status < 300
    ]
    assert not outside, outside


def test_ctrl_c_stops_every_process_of_both(launchers: tuple[Launcher, Launcher]) -> None:
    started = [p for launcher in launchers for p in launcher.descendants()]
    assert len({p.pid for p in started}) >= 14  # 2 x (5 services, postgres, redis)
    for launcher in launchers:
        launcher.process.send_signal(signal.SIGINT)
    for launcher in launchers:
        launcher.process.wait(timeout=60)
    time.sleep(1)
    for launcher in launchers:
        assert "findme: stopped" in "".join(launcher.output), launcher.output[-5:]
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
