"""gRPC surface of the events service: message in, use case, message out.

Refusals raised by the use cases (and database outages, translated by
``database.refusal_for``) reach the caller through the shared server interceptor.
"""

from __future__ import annotations

from typing import Any

import grpc
from findme.events.v1 import events_pb2 as pb
from findme.events.v1 import events_pb2_grpc
from findme_common.refusals import Reason, Refusal

from findme_events import messages
from findme_events.usecases import (
    accounts,
    attendees,
    events,
    invites,
    missed,
    organizers,
    photos,
    selfies,
    suggestions,
)
from findme_events.usecases.resources import Resources

Context = grpc.aio.ServicerContext[Any, Any]

_VIEWER_ROLES = (pb.VIEWER_ROLE_ATTENDEE, pb.VIEWER_ROLE_ORGANIZER)
_IMAGE_KINDS = (pb.IMAGE_KIND_DISPLAY, pb.IMAGE_KIND_THUMBNAIL)
_ANSWERS = {pb.ANSWER_ME: "me", pb.ANSWER_NOT_ME: "not_me"}


class EventsServicer(events_pb2_grpc.EventsServiceServicer):
    def __init__(self, resources: Resources) -> None:
        self.r = resources

    # -- organizers ----------------------------------------------------------------------

    async def CreateOrganizer(
        self, request: pb.CreateOrganizerRequest, context: Context
    ) -> pb.CreateOrganizerResponse:
        organizer_id = await organizers.create_organizer(
            self.r, email=request.email, password_hash=request.password_hash
        )
        return pb.CreateOrganizerResponse(organizer_id=organizer_id)

    async def GetOrganizerCredentials(
        self, request: pb.GetOrganizerCredentialsRequest, context: Context
    ) -> pb.Credentials:
        found = await organizers.organizer_credentials(self.r, email=request.email)
        return messages.credentials(found)

    async def GetOperatorCredentials(
        self, request: pb.GetOperatorCredentialsRequest, context: Context
    ) -> pb.Credentials:
        found = await organizers.operator_credentials(self.r, email=request.email)
        return messages.credentials(found)

    async def UpdateOrganizerPasswordHash(
        self, request: pb.UpdatePasswordHashRequest, context: Context
    ) -> pb.UpdatePasswordHashResponse:
        await accounts.update_password_hash(
            self.r,
            account="organizer",
            account_id=request.subject_id,
            password_hash=request.password_hash,
        )
        return pb.UpdatePasswordHashResponse()

    # -- events --------------------------------------------------------------------------

    async def CreateEvent(self, request: pb.CreateEventRequest, context: Context) -> pb.Event:
        created = await events.create_event(
            self.r,
            organizer_id=request.organizer_id,
            name=request.name,
            starts_on=request.starts_on or None,
            ends_on=request.ends_on or None,
            match_tolerance=messages.optional(request, "match_tolerance"),
            retention_days=messages.optional(request, "retention_days"),
        )
        return messages.event(created)

    async def GetEventByCode(
        self, request: pb.GetEventByCodeRequest, context: Context
    ) -> pb.GetEventByCodeResponse:
        found = await events.event_by_code(self.r, code=request.code)
        if found is None:
            return pb.GetEventByCodeResponse(found=False)
        return pb.GetEventByCodeResponse(found=True, event=messages.event(found))

    async def ListEvents(
        self, request: pb.ListEventsRequest, context: Context
    ) -> pb.ListEventsResponse:
        listed = await events.list_events(self.r, organizer_id=request.organizer_id)
        return pb.ListEventsResponse(events=[messages.event(e) for e in listed])

    async def UpdateEvent(self, request: pb.UpdateEventRequest, context: Context) -> pb.Event:
        changed = await events.update_event(
            self.r,
            organizer_id=request.organizer_id,
            event_id=request.event_id,
            name=messages.optional(request, "name"),
            starts_on=messages.optional(request, "starts_on"),
            ends_on=messages.optional(request, "ends_on"),
            match_tolerance=messages.optional(request, "match_tolerance"),
            retention_days=messages.optional(request, "retention_days"),
        )
        return messages.event(changed)

    async def DeleteEvent(self, request: pb.EventRef, context: Context) -> pb.DeleteEventResponse:
        await events.delete_event(
            self.r, organizer_id=request.organizer_id, event_id=request.event_id
        )
        return pb.DeleteEventResponse()

    async def GetEventStats(self, request: pb.EventRef, context: Context) -> pb.EventStats:
        stats = await events.event_stats(
            self.r, organizer_id=request.organizer_id, event_id=request.event_id
        )
        return messages.event_stats(stats)

    async def GetProgress(self, request: pb.EventRef, context: Context) -> pb.Progress:
        counts = await events.progress(
            self.r, organizer_id=request.organizer_id, event_id=request.event_id
        )
        return messages.progress(counts)

    # -- attendees and selfies -------------------------------------------------------------

    async def CheckAvailability(
        self, request: pb.CheckAvailabilityRequest, context: Context
    ) -> pb.CheckAvailabilityResponse:
        taken = await attendees.username_taken(
            self.r, event_code=request.event_code, username=request.username
        )
        return pb.CheckAvailabilityResponse(username_taken=taken)

    async def CreateAttendee(
        self, request: pb.CreateAttendeeRequest, context: Context
    ) -> pb.Attendee:
        created = await attendees.create_attendee(
            self.r,
            event_code=request.event_code,
            username=request.username,
            password_hash=request.password_hash,
        )
        return messages.attendee(created)

    async def GetAttendeeCredentials(
        self, request: pb.GetAttendeeCredentialsRequest, context: Context
    ) -> pb.Credentials:
        found = await attendees.attendee_credentials(
            self.r, event_code=request.event_code, username=request.username
        )
        return messages.credentials(found)

    async def UpdateAttendeePasswordHash(
        self, request: pb.UpdatePasswordHashRequest, context: Context
    ) -> pb.UpdatePasswordHashResponse:
        await accounts.update_password_hash(
            self.r,
            account="attendee",
            account_id=request.subject_id,
            password_hash=request.password_hash,
        )
        return pb.UpdatePasswordHashResponse()

    async def DeleteAttendee(
        self, request: pb.DeleteAttendeeRequest, context: Context
    ) -> pb.DeleteAttendeeResponse:
        await attendees.delete_attendee(self.r, attendee_id=request.attendee_id)
        return pb.DeleteAttendeeResponse()

    async def SaveSelfie(
        self, request: pb.SaveSelfieRequest, context: Context
    ) -> pb.SaveSelfieResponse:
        saved = await selfies.save_selfie(
            self.r,
            attendee_id=request.attendee_id,
            jpeg=request.jpeg,
            encoding=request.encoding,
            face=messages.face_box(request.face),
            add=request.add,
        )
        return pb.SaveSelfieResponse(
            matches=saved.matches, stored_bytes=saved.stored_bytes, selfies=saved.selfies
        )

    # -- the maybe tier and the people's answers -------------------------------------------

    async def ListSuggestions(
        self, request: pb.ListSuggestionsRequest, context: Context
    ) -> pb.ListSuggestionsResponse:
        page = await suggestions.list_suggestions(
            self.r, attendee_id=request.attendee_id, cursor=request.cursor, limit=request.limit
        )
        return messages.suggestions(page)

    async def AnswerSuggestion(
        self, request: pb.AnswerSuggestionRequest, context: Context
    ) -> pb.AnswerSuggestionResponse:
        await suggestions.answer_suggestion(
            self.r,
            attendee_id=request.attendee_id,
            photo_id=request.photo_id,
            answer=_ANSWERS.get(request.answer, ""),
        )
        return pb.AnswerSuggestionResponse()

    async def RejectMatch(
        self, request: pb.RejectMatchRequest, context: Context
    ) -> pb.RejectMatchResponse:
        await suggestions.reject_match(
            self.r, attendee_id=request.attendee_id, photo_id=request.photo_id
        )
        return pb.RejectMatchResponse()

    async def FlagMissedPhoto(self, request: pb.MissedPhotoRef, context: Context) -> pb.MissedPhoto:
        flagged = await missed.flag_missed_photo(
            self.r, attendee_id=request.attendee_id, photo_id=request.photo_id
        )
        return messages.missed_photo(flagged)

    async def GetMissedPhoto(self, request: pb.MissedPhotoRef, context: Context) -> pb.MissedPhoto:
        found = await missed.missed_photo(
            self.r, attendee_id=request.attendee_id, photo_id=request.photo_id
        )
        return messages.missed_photo(found)

    # -- invites ---------------------------------------------------------------------------

    async def CreateInvite(self, request: pb.CreateInviteRequest, context: Context) -> pb.Invite:
        token, expires_at = await invites.create_invite(
            self.r,
            organizer_id=request.organizer_id,
            event_id=request.event_id,
            valid_for=float(request.valid_for_seconds),
        )
        return pb.Invite(
            token=token, event_id=request.event_id, expires_at_unix=int(expires_at.timestamp())
        )

    async def CheckInvite(
        self, request: pb.CheckInviteRequest, context: Context
    ) -> pb.CheckInviteResponse:
        event_id, taken = await invites.check_invite(
            self.r, token=request.token, username=request.username
        )
        return pb.CheckInviteResponse(
            valid=event_id is not None, username_taken=taken, event_id=event_id or 0
        )

    async def RegisterWithInvite(
        self, request: pb.RegisterWithInviteRequest, context: Context
    ) -> pb.RegisterWithInviteResponse:
        registered, matches = await invites.register_with_invite(
            self.r,
            token=request.token,
            username=request.username,
            password_hash=request.password_hash,
            jpeg=request.jpeg,
            encoding=request.encoding,
            face=messages.face_box(request.face),
        )
        return pb.RegisterWithInviteResponse(
            attendee=messages.attendee(registered),
            matches=matches,
            stored_bytes=len(request.jpeg),
        )

    # -- photos ----------------------------------------------------------------------------

    async def AddPhotos(
        self, request: pb.AddPhotosRequest, context: Context
    ) -> pb.AddPhotosResponse:
        added = await photos.add_photos(
            self.r,
            organizer_id=request.organizer_id,
            event_id=request.event_id,
            contents=[photo.content for photo in request.photos],
        )
        return pb.AddPhotosResponse(
            photos=[pb.AddedPhoto(id=p.id, status=p.status, duplicate=p.duplicate) for p in added]
        )

    async def ListMyPhotos(
        self, request: pb.ListMyPhotosRequest, context: Context
    ) -> pb.ListMyPhotosResponse:
        page = await photos.my_photos(
            self.r, attendee_id=request.attendee_id, cursor=request.cursor, limit=request.limit
        )
        return messages.my_photos(page)

    async def GetPhotoImage(
        self, request: pb.GetPhotoImageRequest, context: Context
    ) -> pb.PhotoImage:
        if request.viewer_role not in _VIEWER_ROLES or request.kind not in _IMAGE_KINDS:
            raise Refusal(Reason.INVALID_IMAGE_REQUEST, "viewer_role and kind are required")
        jpeg = await photos.photo_image(
            self.r,
            photo_id=request.photo_id,
            viewer_id=request.viewer_id,
            organizer=request.viewer_role == pb.VIEWER_ROLE_ORGANIZER,
            thumbnail=request.kind == pb.IMAGE_KIND_THUMBNAIL,
        )
        return pb.PhotoImage(jpeg=jpeg)
