"""Channels and stubs to the backend services, opened once per worker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from findme.auth.v1 import auth_pb2_grpc
from findme.events.v1 import events_pb2_grpc
from findme.selfie.v1 import selfie_pb2_grpc
from findme_common.grpc_client import open_channel
from grpc_health.v1 import health_pb2_grpc

from findme_gateway.config import GatewaySettings


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds each kind of outbound call may take."""

    cheap: float
    password: float
    selfie: float
    health: float
    # Photo batches: originals are written to the blob store inside the call.
    photos: float = 60.0


@dataclass(frozen=True)
class Backends:
    auth: auth_pb2_grpc.AuthServiceStub
    events: events_pb2_grpc.EventsServiceStub
    selfie: selfie_pb2_grpc.SelfieServiceStub
    auth_health: health_pb2_grpc.HealthStub
    events_health: health_pb2_grpc.HealthStub
    selfie_health: health_pb2_grpc.HealthStub
    deadlines: Deadlines
    channels: tuple[grpc.aio.Channel, ...]

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self.channels))


# Calls safe to send again to another instance when the first one went away
# (UNAVAILABLE): pure computations and reads. A retried VerifyPassword may, rarely,
# count one failed attempt twice; that is the price of not failing the login.
_IDEMPOTENT = {
    "findme.auth.v1.AuthService": ("HashPassword", "VerifyPassword", "IssueToken"),
    "findme.selfie.v1.SelfieService": ("ProcessSelfie", "AnalyzePhoto"),
    "findme.events.v1.EventsService": (
        "GetEventByCode",
        "CheckAvailability",
        "GetAttendeeCredentials",
        "GetOrganizerCredentials",
        "ListEvents",
        "GetEventStats",
        "GetProgress",
        "ListMyPhotos",
        "GetPhotoImage",
        "CheckInvite",
    ),
}


def idempotent_methods(service: str) -> tuple[str, ...]:
    return tuple(f"{service}/{method}" for method in _IDEMPOTENT[service])


def open_backends(settings: GatewaySettings) -> Backends:
    # Selfie requests carry the upload; leave room for protobuf framing.
    message_bytes = max(settings.max_message_bytes, settings.max_upload_bytes + 1024 * 1024)
    auth = open_channel(
        settings.auth_target, idempotent_methods=idempotent_methods("findme.auth.v1.AuthService")
    )
    events = open_channel(
        settings.events_target,
        max_message_bytes=message_bytes,
        idempotent_methods=idempotent_methods("findme.events.v1.EventsService"),
    )
    selfie = open_channel(
        settings.selfie_target,
        max_message_bytes=message_bytes,
        idempotent_methods=idempotent_methods("findme.selfie.v1.SelfieService"),
    )
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
            health=settings.health_deadline,
        ),
        channels=(auth, events, selfie),
    )
