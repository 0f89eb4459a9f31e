"""AuthService over real gRPC: an in-process server on a loopback port."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import grpc
import pytest
from findme.auth.v1 import auth_pb2
from findme_auth.passwords import PasswordHasher
from findme_auth.tokens import verify_token
from findme_common.refusals import reason_of as error_reason
from findme_common.refusals import retry_after_of as retry_after
from findme_devstack.embedded import free_port

StartAuth = Any  # conftest's start_auth factory


def throttle_key(address: str = "") -> auth_pb2.ThrottleKey:
    return auth_pb2.ThrottleKey(
        scope=f"event:{uuid.uuid4().int % 10**6}",
        account=f"user-{uuid.uuid4().hex[:8]}",
        client_address=address,
    )


async def hash_of(stub: Any, password: str) -> str:
    response = await stub.HashPassword(auth_pb2.HashPasswordRequest(password=password))
    return str(response.password_hash)


async def refusal(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def test_hash_then_verify(start_auth: StartAuth) -> None:
    stub = await start_auth()
    hashed = await stub.HashPassword(auth_pb2.HashPasswordRequest(password="correct horse"))
    assert hashed.password_hash.startswith("$2b$04$")
    ok = await stub.VerifyPassword(
        auth_pb2.VerifyPasswordRequest(password="correct horse", password_hash=hashed.password_hash)
    )
    assert ok.valid and not ok.needs_rehash and ok.new_hash == ""
    wrong = await stub.VerifyPassword(
        auth_pb2.VerifyPasswordRequest(password="wrong horse", password_hash=hashed.password_hash)
    )
    assert not wrong.valid
    unknown = await stub.VerifyPassword(auth_pb2.VerifyPasswordRequest(password="correct horse"))
    assert not unknown.valid


@pytest.mark.parametrize(
    ("password", "reason"),
    [("ü" * 36 + "!", "password_too_long"), ("short", "password_too_short")],
)
async def test_hash_refusals_carry_reasons(
    start_auth: StartAuth, password: str, reason: str
) -> None:
    stub = await start_auth()
    error = await refusal(stub.HashPassword(auth_pb2.HashPasswordRequest(password=password)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(error) == reason


async def test_malformed_stored_hash(start_auth: StartAuth) -> None:
    stub = await start_auth()
    error = await refusal(
        stub.VerifyPassword(auth_pb2.VerifyPasswordRequest(password="x", password_hash="plain"))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(error) == "invalid_password_hash"


async def test_cost_10_hash_is_rehashed_at_12(start_auth: StartAuth) -> None:
    stub = await start_auth(bcrypt_rounds=12, allow_weak_bcrypt_for_tests=False)
    old = PasswordHasher(rounds=10).hash("correct horse")
    response = await stub.VerifyPassword(
        auth_pb2.VerifyPasswordRequest(password="correct horse", password_hash=old)
    )
    assert response.valid and response.needs_rehash
    assert response.new_hash.startswith("$2b$12$")
    again = await stub.VerifyPassword(
        auth_pb2.VerifyPasswordRequest(password="correct horse", password_hash=response.new_hash)
    )
    assert again.valid and not again.needs_rehash and again.new_hash == ""
    fresh = await stub.HashPassword(auth_pb2.HashPasswordRequest(password="correct horse"))
    assert fresh.password_hash.startswith("$2b$12$")


async def test_issue_token(start_auth: StartAuth, key_pair: Any) -> None:
    stub = await start_auth(token_ttl_seconds=600)
    response = await stub.IssueToken(
        auth_pb2.IssueTokenRequest(role=auth_pb2.ROLE_ATTENDEE, subject_id=11, event_id=5)
    )
    assert response.token_type == "bearer"
    assert response.expires_in == 600
    claims = verify_token(
        response.access_token, key_pair.public_pem, issuer="findme-auth", audience="findme"
    )
    assert (claims["sub"], claims["role"], claims["event"]) == ("11", "attendee", 5)
    assert claims["exp"] - claims["iat"] == 600

    error = await refusal(stub.IssueToken(auth_pb2.IssueTokenRequest(subject_id=11)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(error) == "invalid_role"


async def test_throttled_login(start_auth: StartAuth) -> None:
    stub = await start_auth()
    stored = (
        await stub.HashPassword(auth_pb2.HashPasswordRequest(password="right one"))
    ).password_hash
    key = throttle_key()

    def attempt(password: str) -> Any:
        return stub.VerifyPassword(
            auth_pb2.VerifyPasswordRequest(password=password, password_hash=stored, throttle=key)
        )

    # Four failures, then a success: the account starts over.
    for _ in range(4):
        assert not (await attempt("wrong one")).valid
    assert (await attempt("right one")).valid
    for _ in range(5):
        assert not (await attempt("wrong one")).valid
    error = await refusal(attempt("right one"))  # locked: even the right password waits
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(error) == "too_many_attempts"
    assert retry_after(error) == 2


async def test_per_address_limit(start_auth: StartAuth) -> None:
    stub = await start_auth(throttle_address_free_attempts=3)
    address = f"203.0.113.{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        response = await stub.VerifyPassword(
            auth_pb2.VerifyPasswordRequest(password="guess", throttle=throttle_key(address))
        )
        assert not response.valid
    error = await refusal(
        stub.VerifyPassword(
            auth_pb2.VerifyPasswordRequest(password="guess", throttle=throttle_key(address))
        )
    )
    assert error_reason(error) == "too_many_attempts"
    # Until half a drain step (900 s / 3) has passed.
    assert 100 <= (retry_after(error) or 0) <= 150


async def test_throttling_goes_on_in_memory_while_redis_is_down(start_auth: StartAuth) -> None:
    stub = await start_auth(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    stored = (
        await stub.HashPassword(auth_pb2.HashPasswordRequest(password="right one"))
    ).password_hash
    attacker = throttle_key("192.0.2.1")
    for _ in range(5):
        response = await stub.VerifyPassword(
            auth_pb2.VerifyPasswordRequest(
                password="wrong", password_hash=stored, throttle=attacker
            )
        )
        assert not response.valid
    error = await refusal(
        stub.VerifyPassword(
            auth_pb2.VerifyPasswordRequest(
                password="wrong", password_hash=stored, throttle=attacker
            )
        )
    )
    assert error_reason(error) == "too_many_attempts"
    owner = auth_pb2.ThrottleKey(
        scope=attacker.scope, account=attacker.account, client_address="192.0.2.2"
    )
    response = await stub.VerifyPassword(
        auth_pb2.VerifyPasswordRequest(password="right one", password_hash=stored, throttle=owner)
    )
    assert response.valid


async def test_full_queue_refuses_immediately(start_auth: StartAuth) -> None:
    # One worker, one waiting slot, cost 13 (~0.4 s a hash): six at once leave four over.
    stub = await start_auth(bcrypt_rounds=13, workers=1, queue_limit=1)
    request = auth_pb2.HashPasswordRequest(password="correct horse")
    calls = [asyncio.ensure_future(stub.HashPassword(request)) for _ in range(6)]
    outcomes: list[str] = []
    for finished in asyncio.as_completed(calls):
        try:
            await finished
            outcomes.append("hashed")
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error_reason(error) == "overloaded"
            assert retry_after(error) == 1
            outcomes.append("overloaded")
    # Every refusal came back before the first hash was done: nothing waited in a queue.
    assert outcomes == ["overloaded"] * 4 + ["hashed"] * 2


@pytest.mark.slow
async def test_unknown_user_takes_as_long_as_a_known_user(start_auth: StartAuth) -> None:
    """Timing must not reveal whether an account exists (cost 12, through the pool).

    Tolerance: the medians of 10 calls each are within 25% of each other. Each round
    sends one known and one unknown call together to two workers, so both see the
    same machine load (other test suites may be sharing the cores).
    """
    stub = await start_auth(bcrypt_rounds=12, allow_weak_bcrypt_for_tests=False, workers=2)
    stored = await hash_of(stub, "right one")
    known = auth_pb2.VerifyPasswordRequest(password="wrong guess", password_hash=stored)
    unknown = auth_pb2.VerifyPasswordRequest(password="wrong guess", password_hash="")

    async def timed(request: auth_pb2.VerifyPasswordRequest) -> float:
        started = time.perf_counter()
        response = await stub.VerifyPassword(request)
        assert not response.valid
        return time.perf_counter() - started

    known_times: list[float] = []
    unknown_times: list[float] = []
    for _ in range(10):
        known_time, unknown_time = await asyncio.gather(timed(known), timed(unknown))
        known_times.append(known_time)
        unknown_times.append(unknown_time)
    known_median = statistics.median(known_times)
    unknown_median = statistics.median(unknown_times)
    ratio = max(known_median, unknown_median) / min(known_median, unknown_median)
    assert ratio <= 1.25, (known_times, unknown_times)
    # And both really paid for bcrypt at cost 12, not a shortcut.
    assert min(known_median, unknown_median) > 0.02
