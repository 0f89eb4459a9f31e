"""Several instances of a service behind ONE gRPC target, without Docker.

Two selfie and two auth instances run as real processes on different loopback
addresses (127.0.0.2, 127.0.0.3) and one port; the client sees them only through
``ipv4:127.0.0.2:P,127.0.0.3:P`` with round_robin, as it sees the instances behind
``dns:///selfie:50053`` in compose or a Render ``-discovery`` hostname. Each instance
logs every finished call, which is how the tests count who served what.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from findme.auth.v1 import auth_pb2, auth_pb2_grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.grpc_client import idempotent_methods, open_channel, service_config

from .instances import Instance, shared_free_port, start_instance, wait_serving

HOSTS = ("127.0.0.2", "127.0.0.3")
PROCESS_SELFIE = "/findme.selfie.v1.SelfieService/ProcessSelfie"
HASH_PASSWORD = "/findme.auth.v1.AuthService/HashPassword"
VERIFY_PASSWORD = "/findme.auth.v1.AuthService/VerifyPassword"
SELFIE_SERVICE = selfie_pb2.DESCRIPTOR.services_by_name["SelfieService"]
AUTH_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"]
CONCURRENCY = 4
PASSWORD = "the right password"


def plain_channel(target: str) -> grpc.aio.Channel:
    """round_robin like ``open_channel``, but never retrying anything."""
    return grpc.aio.insecure_channel(
        target, options=[("grpc.service_config", json.dumps(service_config()))]
    )


@dataclass
class Cluster:
    selfie: tuple[Instance, Instance]
    auth: tuple[Instance, Instance]
    selfie_target: str
    auth_target: str


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("instances")
    private_pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    selfie_port = shared_free_port(HOSTS)
    auth_port = shared_free_port(HOSTS)
    # One worker each; the queue holds every outstanding call, so overload refusals
    # (a different, non-retried signal) stay out of this test.
    selfie_env = {"FINDME_SELFIE_WORKERS": "1", "FINDME_SELFIE_QUEUE_LIMIT": "16"}
    auth_env = {
        "FINDME_AUTH_WORKERS": "1",
        "FINDME_AUTH_REDIS_URL": redis_url,
        "FINDME_AUTH_TOKEN_PRIVATE_KEY": private_pem,
        # Cost 8 keeps the test quick while each hash still takes long enough
        # (~15 ms) for calls to be in flight when an instance is killed.
        "FINDME_AUTH_BCRYPT_ROUNDS": "8",
        "FINDME_AUTH_ALLOW_WEAK_BCRYPT_FOR_TESTS": "true",
    }
    instances = [
        *(start_instance("selfie", host, selfie_port, selfie_env, logs) for host in HOSTS),
        *(start_instance("auth", host, auth_port, auth_env, logs) for host in HOSTS),
    ]
    try:
        for instance in instances:
            wait_serving(instance)
        yield Cluster(
            selfie=(instances[0], instances[1]),
            auth=(instances[2], instances[3]),
            selfie_target="ipv4:" + ",".join(f"{h}:{selfie_port}" for h in HOSTS),
            auth_target="ipv4:" + ",".join(f"{h}:{auth_port}" for h in HOSTS),
        )
    finally:
        for instance in instances:
            instance.stop()


@pytest.fixture(scope="module")
def selfie_image(faces_dir: Path) -> bytes:
    # Larger than gRPC's default 256 KiB retry buffer: a retry only works because
    # open_channel sizes that buffer to the largest message.
    data = (faces_dir / "selfies" / "biden.jpg").read_bytes()
    assert len(data) > 256 * 1024
    return data


@dataclass
class Outcome:
    ok: int = 0
    failures: list[grpc.StatusCode] = field(default_factory=list)


async def drive(
    total: int, call: Callable[[int], Awaitable[None]], lanes: int = CONCURRENCY
) -> Outcome:
    """``total`` calls, ``lanes`` at a time; counts successes and failure codes."""
    outcome = Outcome()
    queue = iter(range(total))

    async def lane() -> None:
        for index in queue:
            try:
                await call(index)
                outcome.ok += 1
            except grpc.RpcError as exc:
                outcome.failures.append(exc.code())

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return outcome


def selfie_call(
    stub: selfie_pb2_grpc.SelfieServiceStub, image: bytes
) -> Callable[[int], Awaitable[None]]:
    async def call(_: int) -> None:
        request = selfie_pb2.ProcessSelfieRequest(image=image)
        response = await stub.ProcessSelfie(request, timeout=30)
        assert len(response.encoding) == 128 and response.jpeg

    return call


def auth_call(
    stub: auth_pb2_grpc.AuthServiceStub, stored_hash: str
) -> Callable[[int], Awaitable[None]]:
    async def call(index: int) -> None:
        if index % 2:
            request = auth_pb2.HashPasswordRequest(password=f"password number {index}")
            assert (await stub.HashPassword(request, timeout=10)).password_hash.startswith("$2")
        else:
            check = auth_pb2.VerifyPasswordRequest(password=PASSWORD, password_hash=stored_hash)
            assert (await stub.VerifyPassword(check, timeout=10)).valid

    return call


def served_one(instance: Instance, *methods: str) -> int:
    return sum(instance.finished_calls(method) for method in methods)


def served(instances: tuple[Instance, Instance], *methods: str) -> list[int]:
    return [served_one(instance, *methods) for instance in instances]


async def test_one_target_spreads_calls_over_both_instances(
    cluster: Cluster, selfie_image: bytes
) -> None:
    selfie_channel = open_channel(cluster.selfie_target, SELFIE_SERVICE)
    auth_channel = open_channel(cluster.auth_target, AUTH_SERVICE)
    try:
        selfie = selfie_pb2_grpc.SelfieServiceStub(selfie_channel)
        auth = auth_pb2_grpc.AuthServiceStub(auth_channel)
        stored = (
            await auth.HashPassword(auth_pb2.HashPasswordRequest(password=PASSWORD))
        ).password_hash
        # Let round_robin connect to both addresses before measuring.
        selfie_channel.get_state(try_to_connect=True)
        await asyncio.sleep(0.5)
        selfie_before = served(cluster.selfie, PROCESS_SELFIE)
        auth_before = served(cluster.auth, HASH_PASSWORD, VERIFY_PASSWORD)

        selfie_outcome, auth_outcome = await asyncio.gather(
            drive(16, selfie_call(selfie, selfie_image)), drive(40, auth_call(auth, stored))
        )
    finally:
        await selfie_channel.close()
        await auth_channel.close()

    assert selfie_outcome.failures == [] and auth_outcome.failures == []
    selfie_counts = [
        a - b for a, b in zip(served(cluster.selfie, PROCESS_SELFIE), selfie_before, strict=True)
    ]
    auth_counts = [
        a - b
        for a, b in zip(
            served(cluster.auth, HASH_PASSWORD, VERIFY_PASSWORD), auth_before, strict=True
        )
    ]
    print(f"\nselfie calls per instance {dict(zip(HOSTS, selfie_counts, strict=True))}")
    print(f"auth calls per instance {dict(zip(HOSTS, auth_counts, strict=True))}")
    assert sum(selfie_counts) == 16 and sum(auth_counts) == 40
    # round_robin alternates between ready instances: each gets about half.
    assert min(selfie_counts) >= 16 // 4, selfie_counts
    assert min(auth_counts) >= 40 // 4, auth_counts


async def test_killing_an_instance_mid_run_loses_no_idempotent_call(
    cluster: Cluster, selfie_image: bytes
) -> None:
    selfie_victim, selfie_survivor = cluster.selfie
    auth_victim, auth_survivor = cluster.auth
    auth_methods = (HASH_PASSWORD, VERIFY_PASSWORD)
    selfie_total, auth_total = 24, 120
    # The calls the protos declare safe to send twice (a verification failure is
    # counted by throttle keys, which these tests do not send).
    assert {PROCESS_SELFIE, HASH_PASSWORD, VERIFY_PASSWORD} <= {
        f"/{name}" for name in idempotent_methods(SELFIE_SERVICE, AUTH_SERVICE)
    }
    # Control: the same load through channels without retries. Whatever these lose
    # is what the retry policy saved on the other channels.
    channels = {
        "selfie": open_channel(cluster.selfie_target, SELFIE_SERVICE),
        "auth": open_channel(cluster.auth_target, AUTH_SERVICE),
        "selfie-plain": plain_channel(cluster.selfie_target),
        "auth-plain": plain_channel(cluster.auth_target),
    }
    served_by_victim: dict[str, int] = {}

    async def kill_mid_run(victim: Instance, methods: tuple[str, ...], after: int) -> None:
        # The victim has served `after` calls of this run; the clients keep several
        # calls outstanding on each instance, so some are in flight when it dies.
        start = served_one(victim, *methods)
        while served_one(victim, *methods) - start < after:  # noqa: ASYNC110 (a log file, no event)
            await asyncio.sleep(0.02)
        victim.kill()
        served_by_victim[victim.service] = served_one(victim, *methods) - start

    try:
        selfie = selfie_pb2_grpc.SelfieServiceStub(channels["selfie"])
        auth = auth_pb2_grpc.AuthServiceStub(channels["auth"])
        hashed = await auth.HashPassword(auth_pb2.HashPasswordRequest(password=PASSWORD))
        stored = hashed.password_hash
        for channel in channels.values():
            channel.get_state(try_to_connect=True)
        await asyncio.sleep(0.5)
        survivor_before = (
            served_one(selfie_survivor, PROCESS_SELFIE),
            served_one(auth_survivor, *auth_methods),
        )
        plain_selfie = selfie_pb2_grpc.SelfieServiceStub(channels["selfie-plain"])
        plain_auth = auth_pb2_grpc.AuthServiceStub(channels["auth-plain"])
        selfie_out, auth_out, plain_selfie_out, plain_auth_out, *_ = await asyncio.gather(
            drive(selfie_total, selfie_call(selfie, selfie_image)),
            drive(auth_total, auth_call(auth, stored)),
            drive(selfie_total // 2, selfie_call(plain_selfie, selfie_image), lanes=2),
            drive(auth_total // 2, auth_call(plain_auth, stored), lanes=2),
            kill_mid_run(selfie_victim, (PROCESS_SELFIE,), after=3),
            kill_mid_run(auth_victim, auth_methods, after=10),
        )
    finally:
        for channel in channels.values():
            await channel.close()

    print(
        f"\nselfie: {selfie_out.ok}/{selfie_total} ok with retries "
        f"(victim served {served_by_victim['selfie']} before SIGKILL); "
        f"without retries {plain_selfie_out.ok}/{selfie_total // 2} ok, "
        f"lost {[c.name for c in plain_selfie_out.failures]}"
    )
    print(
        f"auth: {auth_out.ok}/{auth_total} ok with retries "
        f"(victim served {served_by_victim['auth']} before SIGKILL); "
        f"without retries {plain_auth_out.ok}/{auth_total // 2} ok, "
        f"lost {[c.name for c in plain_auth_out.failures]}"
    )
    assert selfie_victim.process.returncode is not None
    assert auth_victim.process.returncode is not None
    assert selfie_out.failures == [] and selfie_out.ok == selfie_total
    assert auth_out.failures == [] and auth_out.ok == auth_total
    # Without the policy a dying instance can only cost UNAVAILABLE, never a wrong answer.
    for lost in (plain_selfie_out.failures, plain_auth_out.failures):
        assert set(lost) <= {grpc.StatusCode.UNAVAILABLE}
    # Everything the victims did not finish, the survivors did.
    survivor_selfie = served_one(selfie_survivor, PROCESS_SELFIE) - survivor_before[0]
    survivor_auth = served_one(auth_survivor, *auth_methods) - survivor_before[1]
    assert survivor_selfie >= selfie_total - served_by_victim["selfie"]
    assert survivor_auth >= auth_total - served_by_victim["auth"]
