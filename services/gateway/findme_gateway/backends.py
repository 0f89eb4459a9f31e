"""Channels and stubs to the backend services, opened once per worker process.

Which calls a channel may send again to another instance is declared in the protos
(``idempotency_level``); ``findme_common.grpc_client`` derives the retry policy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from findme.auth.v1 import auth_pb2, auth_pb2_grpc
from findme.events.v1 import events_pb2, events_pb2_grpc
from findme.selfie.v1 import selfie_pb2, selfie_pb2_grpc
from findme_common.grpc_client import open_channel
from grpc_health.v1 import health_pb2_grpc

from findme_gateway.config import GatewaySettings

AUTH_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"]
EVENTS_SERVICE = events_pb2.DESCRIPTOR.services_by_name["EventsService"]
SELFIE_SERVICE = selfie_pb2.DESCRIPTOR.services_by_name["SelfieService"]


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds each kind of outbound call may take."""

    cheap: float
    password: float
    selfie: float
    photos: float
    health: float


@dataclass(frozen=True)
class Backends:
    auth: auth_pb2_grpc.AuthServiceAsyncStub
    events: events_pb2_grpc.EventsServiceAsyncStub
    selfie: selfie_pb2_grpc.SelfieServiceAsyncStub
    auth_health: health_pb2_grpc.HealthStub
    events_health: health_pb2_grpc.HealthStub
    selfie_health: health_pb2_grpc.HealthStub
    deadlines: Deadlines
    channels: tuple[grpc.aio.Channel, ...]

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self.channels))


def open_backends(settings: GatewaySettings) -> Backends:
    # Selfie and photo requests carry uploads; leave room for protobuf framing.
    message_bytes = max(
        settings.max_message_bytes,
        settings.max_upload_bytes + 1024 * 1024,
        settings.photo_rpc_batch_bytes + 1024 * 1024,
    )
    auth = open_channel(settings.auth_target, AUTH_SERVICE)
    events = open_channel(settings.events_target, EVENTS_SERVICE, max_message_bytes=message_bytes)
    selfie = open_channel(settings.selfie_target, SELFIE_SERVICE, max_message_bytes=message_bytes)
    return Backends(
        auth=auth_pb2_grpc.AuthServiceStub(auth),
        events=events_pb2_grpc.EventsServiceStub(events),
        selfie=selfie_pb2_grpc.SelfieServiceStub(selfie),
        auth_health=health_pb2_grpc.HealthStub(auth),
        events_health=health_pb2_grpc.HealthStub(events),
        selfie_health=health_pb2_grpc.HealthStub(selfie),
        deadlines=Deadlines(
            cheap=settings.cheap_deadline,
            password=settings.password_deadline,
            selfie=settings.selfie_deadline,
            photos=settings.photos_deadline,
            health=settings.health_deadline,
        ),
        channels=(auth, events, selfie),
    )
