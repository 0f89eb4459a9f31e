"""gRPC surface of the events service: translate messages, delegate to Operations."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, TypeVar

import grpc
from findme.events.v1 import events_pb2, events_pb2_grpc
from findme_common.grpc_errors import abort
from sqlalchemy import exc as sa_exc

from findme_events.errors import InvalidArgument, ServiceError
from findme_events.operations import Operations
from findme_events.schemas import CredentialsRecord, EventRecord, FaceBox, Progress

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
        starts_on=event.starts_on or "",
        ends_on=event.ends_on or "",
    )


def _progress_message(progress: Progress) -> events_pb2.Progress:
    return events_pb2.Progress(
        pending=progress.pending,
        processing=progress.processing,
        done=progress.done,
        failed=progress.failed,
    )


def _optional(request: Any, name: str) -> Any:
    return getattr(request, name) if request.HasField(name) else None


def _face(box: Any) -> FaceBox:
    return FaceBox(top=box.top, right=box.right, bottom=box.bottom, left=box.left)


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
            organizer_id=request.organizer_id,
            name=request.name,
            starts_on=request.starts_on or None,
            ends_on=request.ends_on or None,
            match_tolerance=_optional(request, "match_tolerance"),
            retention_days=_optional(request, "retention_days"),
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

    # -- organizer: events -------------------------------------------------------------

    @refusals
    async def ListEvents(self, request, context):  # type: ignore[no-untyped-def]
        events = await self.operations.list_events(organizer_id=request.organizer_id)
        return events_pb2.ListEventsResponse(events=[_event_message(e) for e in events])

    @refusals
    async def UpdateEvent(self, request, context):  # type: ignore[no-untyped-def]
        event = await self.operations.update_event(
            organizer_id=request.organizer_id,
            event_id=request.event_id,
            name=_optional(request, "name"),
            starts_on=_optional(request, "starts_on"),
            ends_on=_optional(request, "ends_on"),
            match_tolerance=_optional(request, "match_tolerance"),
            retention_days=_optional(request, "retention_days"),
        )
        return _event_message(event)

    @refusals
    async def DeleteEvent(self, request, context):  # type: ignore[no-untyped-def]
        await self.operations.delete_event(
            organizer_id=request.organizer_id, event_id=request.event_id
        )
        return events_pb2.DeleteEventResponse()

    @refusals
    async def GetEventStats(self, request, context):  # type: ignore[no-untyped-def]
        stats = await self.operations.event_stats(
            organizer_id=request.organizer_id, event_id=request.event_id
        )
        return events_pb2.EventStats(
            attendees=stats.attendees,
            selfies=stats.selfies,
            photos=_progress_message(stats.photos),
            faces=stats.faces,
            matches=stats.matches,
        )

    # -- invites -----------------------------------------------------------------------

    @refusals
    async def CreateInvite(self, request, context):  # type: ignore[no-untyped-def]
        token, expires_at = await self.operations.create_invite(
            organizer_id=request.organizer_id,
            event_id=request.event_id,
            valid_for=float(request.valid_for_seconds),
        )
        return events_pb2.Invite(
            token=token, event_id=request.event_id, expires_at_unix=int(expires_at.timestamp())
        )

    @refusals
    async def CheckInvite(self, request, context):  # type: ignore[no-untyped-def]
        event_id, taken = await self.operations.check_invite(
            token=request.token, username=request.username
        )
        return events_pb2.CheckInviteResponse(
            valid=event_id is not None, username_taken=taken, event_id=event_id or 0
        )

    @refusals
    async def RegisterWithInvite(self, request, context):  # type: ignore[no-untyped-def]
        attendee, matches = await self.operations.register_with_invite(
            token=request.token,
            username=request.username,
            password_hash=request.password_hash,
            jpeg=request.jpeg,
            encoding=request.encoding,
            face=_face(request.face),
        )
        return events_pb2.RegisterWithInviteResponse(
            attendee=events_pb2.Attendee(
                id=attendee.id, event_id=attendee.event_id, username=attendee.username
            ),
            matches=matches,
            stored_bytes=len(request.jpeg),
        )

    # -- photos ------------------------------------------------------------------------

    @refusals
    async def AddPhotos(self, request, context):  # type: ignore[no-untyped-def]
        added = await self.operations.add_photos(
            organizer_id=request.organizer_id,
            event_id=request.event_id,
            contents=[photo.content for photo in request.photos],
        )
        return events_pb2.AddPhotosResponse(
            photos=[
                events_pb2.AddedPhoto(id=p.id, status=p.status, duplicate=p.duplicate)
                for p in added
            ]
        )

    @refusals
    async def GetProgress(self, request, context):  # type: ignore[no-untyped-def]
        progress = await self.operations.progress(
            organizer_id=request.organizer_id, event_id=request.event_id
        )
        return _progress_message(progress)

    @refusals
    async def ListMyPhotos(self, request, context):  # type: ignore[no-untyped-def]
        page = await self.operations.my_photos(
            attendee_id=request.attendee_id, cursor=request.cursor, limit=request.limit
        )
        return events_pb2.ListMyPhotosResponse(
            items=[
                events_pb2.MyPhoto(
                    photo_id=item.photo_id,
                    distance=item.distance,
                    detected_at=item.detected_at.astimezone(UTC).isoformat(),
                )
                for item in page.items
            ],
            next_cursor=page.next_cursor,
        )

    @refusals
    async def GetPhotoImage(self, request, context):  # type: ignore[no-untyped-def]
        if request.viewer_role not in (
            events_pb2.VIEWER_ROLE_ATTENDEE,
            events_pb2.VIEWER_ROLE_ORGANIZER,
        ) or request.kind not in (events_pb2.IMAGE_KIND_DISPLAY, events_pb2.IMAGE_KIND_THUMBNAIL):
            raise InvalidArgument("invalid_image_request", "viewer_role and kind are required")
        jpeg = await self.operations.photo_image(
            photo_id=request.photo_id,
            viewer_id=request.viewer_id,
            organizer=request.viewer_role == events_pb2.VIEWER_ROLE_ORGANIZER,
            thumbnail=request.kind == events_pb2.IMAGE_KIND_THUMBNAIL,
        )
        return events_pb2.PhotoImage(jpeg=jpeg)

    @refusals
    async def DeleteAttendee(self, request, context):  # type: ignore[no-untyped-def]
        await self.operations.delete_attendee(attendee_id=request.attendee_id)
        return events_pb2.DeleteAttendeeResponse()
