"""The login path across services: the gateway's HTTP API (in-process) over real
events (fresh PostgreSQL) and auth (real Redis) gRPC servers.

Auth alone can only say a hash needs upgrading; these tests check that the new hash
is really saved through events, that throttling keys built by the gateway lock an
account and reset on success, and that bad usernames reach the client as 422.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import bcrypt
import grpc
import httpx
import pytest
from findme.events.v1 import events_pb2, events_pb2_grpc
from findme_auth.config import AuthSettings
from findme_auth.server import build_service
from findme_common.grpc_server import start, stop
from findme_events import migrate
from findme_events.config import EventsSettings
from findme_events.server import build as build_events
from findme_gateway.app import create_app, lifespan
from findme_gateway.config import GatewaySettings

POLICY_ROUNDS = 5  # the auth service's policy here; stored hashes below it get upgraded
PASSWORD = "correct horse battery"


@pytest.fixture
async def events_target(fresh_database_url: str, redis_url: str) -> AsyncIterator[str]:
    await migrate.upgrade(fresh_database_url)
    service = build_events(
        EventsSettings(database_url=fresh_database_url, redis_url=redis_url, port=0, metrics_port=0)
    )
    started = await start(service)
    yield f"dns:///127.0.0.1:{started.port}"
    await stop(service, started, 0)


@pytest.fixture
async def auth_target(make_settings: Callable[..., AuthSettings]) -> AsyncIterator[str]:
    service = build_service(make_settings(bcrypt_rounds=POLICY_ROUNDS))
    started = await start(service)
    yield f"dns:///127.0.0.1:{started.port}"
    await stop(service, started, 0)


@pytest.fixture
async def events(events_target: str) -> AsyncIterator[events_pb2_grpc.EventsServiceStub]:
    async with grpc.aio.insecure_channel(events_target.removeprefix("dns:///")) as channel:
        yield events_pb2_grpc.EventsServiceStub(channel)


GatewayFrom = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def gateway_from(
    events_target: str, auth_target: str, redis_url: str, key_pair: Any
) -> AsyncIterator[GatewayFrom]:
    """Clients of one gateway app, each from the client address it is opened with."""
    settings = GatewaySettings(
        token_public_key=key_pair.public_pem,
        auth_target=auth_target,
        events_target=events_target,
        # No selfie calls here; nothing listens on port 9 of loopback.
        selfie_target="dns:///127.0.0.1:9",
        redis_url=redis_url,
        rate_limit_enabled=False,
        access_log=False,
    )
    app = create_app(settings)

    @asynccontextmanager
    async def client_from(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client

    async with lifespan(app):
        yield client_from


@pytest.fixture
async def gateway(gateway_from: GatewayFrom) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_from(f"10.1.{uuid.uuid4().int % 250}.3") as client:
        yield client


@dataclass
class Account:
    code: str
    username: str


async def _attendees(
    events: events_pb2_grpc.EventsServiceStub, stored_hash: str, count: int
) -> list[Account]:
    """``count`` attendees of one new event, all with ``stored_hash``."""
    organizer = await events.CreateOrganizer(
        events_pb2.CreateOrganizerRequest(
            email=f"o-{uuid.uuid4().hex[:8]}@example.com", password_hash=stored_hash
        )
    )
    event = await events.CreateEvent(
        events_pb2.CreateEventRequest(organizer_id=organizer.organizer_id, name="Party")
    )
    accounts = []
    for _ in range(count):
        username = f"Guest_{uuid.uuid4().hex[:6]}"
        await events.CreateAttendee(
            events_pb2.CreateAttendeeRequest(
                event_code=event.code, username=username, password_hash=stored_hash
            )
        )
        accounts.append(Account(code=event.code, username=username))
    return accounts


async def _attendee(events: events_pb2_grpc.EventsServiceStub, stored_hash: str) -> Account:
    (account,) = await _attendees(events, stored_hash, 1)
    return account


async def _stored_hash(events: events_pb2_grpc.EventsServiceStub, account: Account) -> str:
    credentials = await events.GetAttendeeCredentials(
        events_pb2.GetAttendeeCredentialsRequest(event_code=account.code, username=account.username)
    )
    assert credentials.found
    return str(credentials.password_hash)


def _cost(stored_hash: str) -> int:
    return int(stored_hash.split("$")[2])


async def _login(gateway: httpx.AsyncClient, account: Account, password: str) -> httpx.Response:
    return await gateway.post(
        "/api/login",
        json={"event_code": account.code, "username": account.username, "password": password},
    )


async def test_login_saves_a_rehash_through_events(
    gateway: httpx.AsyncClient, events: events_pb2_grpc.EventsServiceStub
) -> None:
    old = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    account = await _attendee(events, old)

    first = await _login(gateway, account, PASSWORD)
    assert first.status_code == 200, first.text
    upgraded = await _stored_hash(events, account)
    assert _cost(upgraded) == POLICY_ROUNDS
    assert bcrypt.checkpw(PASSWORD.encode(), upgraded.encode())

    # The upgraded hash logs in and, being at policy, is left alone.
    second = await _login(gateway, account, PASSWORD)
    assert second.status_code == 200, second.text
    assert await _stored_hash(events, account) == upgraded


async def test_wrong_password_does_not_rehash(
    gateway: httpx.AsyncClient, events: events_pb2_grpc.EventsServiceStub
) -> None:
    old = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    account = await _attendee(events, old)
    reply = await _login(gateway, account, "not the password")
    assert (reply.status_code, reply.json()["error"]["code"]) == (401, "invalid_credentials")
    assert await _stored_hash(events, account) == old


async def test_account_locks_with_retry_after_and_success_resets_it(
    gateway: httpx.AsyncClient, events: events_pb2_grpc.EventsServiceStub
) -> None:
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(POLICY_ROUNDS)).decode()
    account = await _attendee(events, stored)
    free = AuthSettings.model_fields["throttle_pair_free_attempts"].default

    # One short of the lock, then a success: the counter starts again from zero.
    for _ in range(free - 1):
        assert (await _login(gateway, account, "wrong guess")).status_code == 401
    assert (await _login(gateway, account, PASSWORD)).status_code == 200
    for _ in range(free - 1):
        assert (await _login(gateway, account, "wrong guess")).status_code == 401

    # The username differs only in case and width: the same account, the same counter.
    variant = Account(code=account.code, username=account.username.upper())
    assert (await _login(gateway, variant, "wrong guess")).status_code == 401
    locked = await _login(gateway, account, PASSWORD)
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert int(locked.headers["retry-after"]) >= 1


async def test_a_venue_behind_one_address_is_not_locked_out_by_typos(
    gateway: httpx.AsyncClient, events: events_pb2_grpc.EventsServiceStub
) -> None:
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(POLICY_ROUNDS)).decode()
    attendees = await _attendees(events, stored, 50)
    # 100 failed logins from the venue's one address: everyone mistypes twice...
    for account in attendees:
        for _ in range(2):
            assert (await _login(gateway, account, "typo typo")).status_code == 401
    # ...then 50 attendees log in right, together: every one gets in.
    logins = await asyncio.gather(*(_login(gateway, a, PASSWORD) for a in attendees))
    assert [reply.status_code for reply in logins] == [200] * 50


async def test_an_attacker_cannot_lock_the_owner_out(
    gateway_from: GatewayFrom, events: events_pb2_grpc.EventsServiceStub
) -> None:
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(POLICY_ROUNDS)).decode()
    account = await _attendee(events, stored)
    async with gateway_from("203.0.113.66") as attacker, gateway_from("198.51.100.7") as owner:
        statuses = [(await _login(attacker, account, f"guess {n}")).status_code for n in range(8)]
        assert statuses == [401] * 5 + [429] * 3  # the attacker is locked out...
        reply = await _login(owner, account, PASSWORD)
    assert reply.status_code == 200, reply.text  # ...the owner is not


async def test_bad_usernames_are_422_invalid_username(
    gateway: httpx.AsyncClient, events: events_pb2_grpc.EventsServiceStub
) -> None:
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    account = await _attendee(events, stored)
    # Too short, too long, and characters outside letters, digits and "._-".
    for username in ["ab", "x" * 33, "has space", "semi;colon", "emoji\U0001f600"]:
        body = {"event_code": account.code, "username": username}
        availability = await gateway.post("/api/check-user-availability", json=body)
        register = await gateway.post(
            "/api/register-with-event-code", json={**body, "password": PASSWORD}
        )
        for reply in (availability, register):
            assert reply.status_code == 422, (username, reply.text)
            assert reply.json()["error"]["code"] == "invalid_username"


async def test_usernames_equal_after_nfkc_casefold_collide(
    gateway: httpx.AsyncClient, events: events_pb2_grpc.EventsServiceStub
) -> None:
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    account = await _attendee(events, stored)
    # Full-width letters and a different case: NFKC + casefold make them the same name.
    fullwidth = "".join(
        chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c
        for c in account.username.swapcase()
    )
    reply = await gateway.post(
        "/api/register-with-event-code",
        json={"event_code": account.code, "username": fullwidth, "password": PASSWORD},
    )
    assert (reply.status_code, reply.json()["error"]["code"]) == (409, "username_taken")
    login = await _login(gateway, Account(account.code, fullwidth), PASSWORD)
    assert login.status_code == 200, login.text
