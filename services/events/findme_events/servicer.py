"""gRPC surface of the events service: translate messages, delegate to Operations."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from findme.events.v1 import events_pb2, events_pb2_grpc
from findme_common.grpc_errors import abort
from sqlalchemy import exc as sa_exc

from findme_events.errors import ServiceError
from findme_events.operations import Operations
from findme_events.schemas import CredentialsRecord, EventRecord, FaceBox

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")
Method = Callable[[Any, Request, grpc.aio.ServicerContext], Awaitable[Response]]


def refusals(method: Method[Request, Response]) -> Method[Request, Response]:
    """Turn refusals and database outages into gRPC statuses with a reason."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Request, context: grpc.aio.ServicerContext) -> Response:
        try:
            return await method(self, request, context)
        except ServiceError as exc:
            await abort(context, exc.code, exc.reason, exc.message)
        except sa_exc.TimeoutError:
            # Every pooled connection is busy: shed load rather than queue forever.
            await abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "overloaded",
                "database pool exhausted",
                retry_after=1,
            )
        except (OSError, sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            log.warning("database unavailable", extra={"error": repr(exc)})
            await abort(
                context, grpc.StatusCode.UNAVAILABLE, "database_unavailable", "database unavailable"
            )
        raise AssertionError("unreachable: abort always raises")

    return wrapper


def _event_message(event: EventRecord) -> events_pb2.Event:
    return events_pb2.Event(
        id=event.id,
        code=event.code,
        name=event.name,
        organizer_id=event.organizer_id,
        match_tolerance=event.match_tolerance,
        retention_days=event.retention_days,
    )


def _credentials_message(credentials: CredentialsRecord) -> events_pb2.Credentials:
    return events_pb2.Credentials(
        found=credentials.found,
        subject_id=credentials.subject_id,
        event_id=credentials.event_id,
        password_hash=credentials.password_hash,
        account=credentials.account,
    )


class EventsServicer(events_pb2_grpc.EventsServiceServicer):
    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    @refusals
    async def CreateOrganizer(self, request, context):  # type: ignore[no-untyped-def]
        organizer_id = await self.operations.create_organizer(
            email=request.email, password_hash=request.password_hash
        )
        return events_pb2.CreateOrganizerResponse(organizer_id=organizer_id)

    @refusals
    async def GetOrganizerCredentials(self, request, context):  # type: ignore[no-untyped-def]
        credentials = await self.operations.organizer_credentials(email=request.email)
        return _credentials_message(credentials)

    @refusals
    async def UpdateOrganizerPasswordHash(self, request, context):  # type: ignore[no-untyped-def]
        await self.operations.update_organizer_password_hash(
            organizer_id=request.subject_id, password_hash=request.password_hash
        )
        return events_pb2.UpdatePasswordHashResponse()

    @refusals
    async def CreateEvent(self, request, context):  # type: ignore[no-untyped-def]
        event = await self.operations.create_event(
            organizer_id=request.organizer_id, name=request.name
        )
        return _event_message(event)

    @refusals
    async def GetEventByCode(self, request, context):  # type: ignore[no-untyped-def]
        event = await self.operations.event_by_code(code=request.code)
        if event is None:
            return events_pb2.GetEventByCodeResponse(found=False)
        return events_pb2.GetEventByCodeResponse(found=True, event=_event_message(event))

    @refusals
    async def CheckAvailability(self, request, context):  # type: ignore[no-untyped-def]
        taken = await self.operations.username_taken(
            event_code=request.event_code, username=request.username
        )
        return events_pb2.CheckAvailabilityResponse(username_taken=taken)

    @refusals
    async def CreateAttendee(self, request, context):  # type: ignore[no-untyped-def]
        attendee = await self.operations.create_attendee(
            event_code=request.event_code,
            username=request.username,
            password_hash=request.password_hash,
        )
        return events_pb2.Attendee(
            id=attendee.id, event_id=attendee.event_id, username=attendee.username
        )

    @refusals
    async def GetAttendeeCredentials(self, request, context):  # type: ignore[no-untyped-def]
        credentials = await self.operations.attendee_credentials(
            event_code=request.event_code, username=request.username
        )
        return _credentials_message(credentials)

    @refusals
    async def UpdateAttendeePasswordHash(self, request, context):  # type: ignore[no-untyped-def]
        await self.operations.update_attendee_password_hash(
            attendee_id=request.subject_id, password_hash=request.password_hash
        )
        return events_pb2.UpdatePasswordHashResponse()

    @refusals
    async def SaveSelfie(self, request, context):  # type: ignore[no-untyped-def]
        face = request.face
        matches, stored_bytes = await self.operations.save_selfie(
            attendee_id=request.attendee_id,
            jpeg=request.jpeg,
            encoding=request.encoding,
            face=FaceBox(top=face.top, right=face.right, bottom=face.bottom, left=face.left),
        )
        return events_pb2.SaveSelfieResponse(matches=matches, stored_bytes=stored_bytes)
