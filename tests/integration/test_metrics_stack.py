"""The whole system's metrics against the real stack (two gateway workers, so the
gateway's numbers are added up over processes): after a known sequence of calls
every service shows exactly those counts; the performance dashboard draws them in
Chromium for an operator and is a 404 for anyone else; a Redis outage shows in the
cache and health metrics.

The dashboard's screenshot lands in /tmp/findme-admin-performance.png.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from findme_devstack import faces
from findme_devstack.embedded import EmbeddedRedis, start_redis
from findme_devstack.stack import Stack, temporary_stack
from findme_devstack.unavailable import skip_or_fail

from .ops_support import run_admin, scrape, scrape_all, value

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/findme-admin-performance.png")
PASSWORD = "operator password 1"


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    # Our own Redis: the test stops it, and nothing else must bring it back.
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ops_stack(redis: EmbeddedRedis) -> Iterator[Stack]:
    with temporary_stack(
        {
            "FINDME_GATEWAY_WORKERS": "2",
            "FINDME_SELFIE_WORKERS": "1",
            "FINDME_AUTH_WORKERS": "1",
            "FINDME_WORKER_QUEUE_METRICS_INTERVAL": "0.5",
            "FINDME_EVENTS_HEALTH_INTERVAL": "0.5",
        },
        database_url=os.environ.get("TEST_DATABASE_URL") or None,
        redis_url=redis.url,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def http(ops_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ops_stack.url, timeout=60) as client:
        yield client


def organizer_with_event(http: httpx.Client) -> tuple[dict[str, str], dict[str, object]]:
    email = f"org-{uuid.uuid4().hex[:8]}@example.com"
    token = http.post("/api/organizers", json={"email": email, "password": "organizer pw 1"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    event = http.post("/api/events", json={"name": "Metrics party"}, headers=headers).json()
    return headers, event


def wait_for(check: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def test_each_service_counts_exactly_the_calls_made(
    ops_stack: Stack, http: httpx.Client, faces_dir: Path
) -> None:
    organizer, event = organizer_with_event(http)
    code = event["code"]
    username, password = f"ann_{uuid.uuid4().hex[:6]}", "attendee pass 1"
    registered = http.post(
        "/api/register-with-event-code",
        json={"event_code": code, "username": username, "password": password},
    )
    attendee = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    before = scrape_all(ops_stack)

    for _ in range(7):
        assert http.post("/api/check-event-code", json={"event_code": code}).status_code == 200
    for _ in range(3):
        wrong = {"event_code": code, "username": username, "password": "wrong password"}
        assert http.post("/api/login", json=wrong).status_code == 401
    selfie = (faces_dir / faces.OBAMA).read_bytes()
    for _ in range(2):
        reply = http.post(
            "/api/upload-selfie", files={"file": ("me.jpg", selfie, "image/jpeg")}, headers=attendee
        )
        assert reply.status_code == 200, reply.text
    photos = [faces.OBAMA, faces.BIDEN, faces.ASTRONAUT, faces.TWO_PEOPLE]
    files = [("files", (name, (faces_dir / name).read_bytes(), "image/jpeg")) for name in photos]
    reply = http.post(f"/api/events/{event['id']}/photos", files=files, headers=organizer)
    assert reply.status_code == 202, reply.text
    progress = f"/api/events/{event['id']}/progress"
    wait_for(lambda: http.get(progress, headers=organizer).json()["done"] == 4, 180)

    after = scrape_all(ops_stack)

    def moved(service: str, name: str, **labels: str) -> float:
        return value(after[service], name, **labels) - value(before[service], name, **labels)

    def http_requests(route: str, status: str) -> float:
        return moved("gateway", "findme_http_requests_total", route=route, status=status)

    def rpc(service: str, method: str, code: str = "OK") -> float:
        return moved(service, "grpc_server_handled_total", grpc_method=method, grpc_code=code)

    # The gateway's two workers, added up.
    assert http_requests("/api/check-event-code", "200") == 7
    assert http_requests("/api/login", "401") == 3
    assert http_requests("/api/upload-selfie", "200") == 2
    assert http_requests("/api/events/{event_id}/photos", "202") == 1
    assert moved("gateway", "findme_http_request_seconds_count", route="/api/login") == 3
    assert moved("gateway", "findme_http_refusals_total", reason="invalid_credentials") == 3

    assert rpc("auth", "VerifyPassword") == 3
    assert moved("auth", "findme_auth_password_checks_total", result="invalid") == 3
    assert moved("auth", "findme_pool_job_seconds_count", pool="bcrypt") == 3
    assert rpc("events", "GetEventByCode") == 7
    # The cache serves the 7 code checks and the 3 logins' event lookups.
    assert moved("events", "findme_event_cache_lookups_total", layer="local") == 10
    assert rpc("events", "SaveSelfie") == 2
    assert rpc("events", "AddPhotos") == 1
    assert rpc("selfie", "ProcessSelfie") == 2
    assert rpc("selfie", "AnalyzePhoto") == 4
    assert moved("selfie", "findme_pool_job_seconds_count", pool="selfie") == 6
    assert moved("worker", "findme_photos_processed_total", outcome="done") == 4
    assert moved("worker", "findme_matches_written_total", source="photo") >= 1
    assert value(after["events"], "findme_db_statement_seconds_count") > 0


def load(stack: Stack, stop: threading.Event, faces_dir: Path) -> None:
    """A light mixed load: code checks, failed and good logins, selfies, photos."""
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        organizer, event = organizer_with_event(client)
        username = f"load_{uuid.uuid4().hex[:6]}"
        body = {"event_code": event["code"], "username": username, "password": "load pass 12"}
        token = client.post("/api/register-with-event-code", json=body).json()["access_token"]
        attendee = {"Authorization": f"Bearer {token}"}
        images = [faces.OBAMA, faces.BIDEN, faces.ASTRONAUT, faces.TWO_PEOPLE, faces.CROWD]
        round_ = 0
        while not stop.is_set() and round_ < 200:
            round_ += 1
            for _ in range(5):
                client.post("/api/check-event-code", json={"event_code": event["code"]})
            client.post("/api/login", json=body)
            client.post("/api/login", json={**body, "password": "not the password"})
            if round_ % 3 == 1:
                client.post(
                    "/api/upload-selfie",
                    files={"file": ("me.jpg", (faces_dir / faces.OBAMA).read_bytes())},
                    headers=attendee,
                )
            if round_ <= len(images):
                name = images[round_ - 1]
                client.post(
                    f"/api/events/{event['id']}/photos",
                    files=[("files", (name, (faces_dir / name).read_bytes(), "image/jpeg"))],
                    headers=organizer,
                )
            time.sleep(0.2)


def test_the_dashboard_draws_every_chart_for_an_operator_only(
    ops_stack: Stack, http: httpx.Client, faces_dir: Path
) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("Debian's chromium is not installed (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    created = run_admin(ops_stack, "create-operator", email, "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr

    organizer, _ = organizer_with_event(http)
    assert http.get("/admin/performance", headers=organizer).status_code == 404
    assert http.get("/admin/performance/data", headers=organizer).status_code == 404
    assert http.get("/admin/performance").status_code == 404

    stop = threading.Event()
    loader = threading.Thread(target=load, args=(ops_stack, stop, faces_dir))
    loader.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            problems: list[str] = []
            # Any script or CSP error; failed loads are checked by URL below.
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource")
                    else None
                ),
            )
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{ops_stack.url}/admin/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("#login")
            page.wait_for_url("**/admin/performance")
            charts = page.locator("section.chart")
            assert charts.count() == 10
            # Every chart has drawn points (a photo processed, logins queued, ...).
            page.wait_for_function(
                "() => [...document.querySelectorAll('section.chart')]"
                ".every((c) => Number(c.dataset.points || 0) > 0 && c.querySelector('canvas'))",
                timeout=120_000,
            )
            page.wait_for_timeout(2500)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            browser.close()
    finally:
        stop.set()
        loader.join(timeout=120)
    assert problems == []
    assert SCREENSHOT.stat().st_size > 10_000


def test_a_redis_outage_shows_in_cache_and_health_metrics(
    ops_stack: Stack, http: httpx.Client, redis: EmbeddedRedis
) -> None:
    _, event = organizer_with_event(http)
    events_url = ops_stack.metrics_url("events")
    before = scrape(events_url)
    assert value(before, "findme_component_up", component="cache") == 1
    redis.stop()

    # A code nobody looked up: the local layer misses, Redis is down, PostgreSQL answers.
    reply = http.post("/api/check-event-code", json={"event_code": event["code"]})
    assert reply.status_code == 200 and reply.json()["valid"] is True
    after = scrape(events_url)
    purpose = {"purpose": "event-code cache"}
    assert value(after, "findme_redis_up", **purpose) == 0
    assert value(after, "findme_redis_failures_total", **purpose) > value(
        before, "findme_redis_failures_total", **purpose
    )
    for layer, result in (("redis", "miss"), ("database", "load")):
        assert value(after, "findme_event_cache_lookups_total", layer=layer, result=result) == (
            value(before, "findme_event_cache_lookups_total", layer=layer, result=result) + 1
        )
    wait_for(lambda: value(scrape(events_url), "findme_component_up", component="cache") == 0, 20)
    assert http.get("/health").json()["components"]["cache"]["status"] == "down"
