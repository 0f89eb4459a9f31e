from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_KIND_UNSPECIFIED: _ClassVar[ImageKind]
    IMAGE_KIND_DISPLAY: _ClassVar[ImageKind]
    IMAGE_KIND_THUMBNAIL: _ClassVar[ImageKind]

class ViewerRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIEWER_ROLE_UNSPECIFIED: _ClassVar[ViewerRole]
    VIEWER_ROLE_ATTENDEE: _ClassVar[ViewerRole]
    VIEWER_ROLE_ORGANIZER: _ClassVar[ViewerRole]

class Answer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANSWER_UNSPECIFIED: _ClassVar[Answer]
    ANSWER_ME: _ClassVar[Answer]
    ANSWER_NOT_ME: _ClassVar[Answer]
IMAGE_KIND_UNSPECIFIED: ImageKind
IMAGE_KIND_DISPLAY: ImageKind
IMAGE_KIND_THUMBNAIL: ImageKind
VIEWER_ROLE_UNSPECIFIED: ViewerRole
VIEWER_ROLE_ATTENDEE: ViewerRole
VIEWER_ROLE_ORGANIZER: ViewerRole
ANSWER_UNSPECIFIED: Answer
ANSWER_ME: Answer
ANSWER_NOT_ME: Answer

class CreateOrganizerRequest(_message.Message):
    __slots__ = ("email", "password_hash")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    email: str
    password_hash: str
    def __init__(self, email: _Optional[str] = ..., password_hash: _Optional[str] = ...) -> None: ...

class CreateOrganizerResponse(_message.Message):
    __slots__ = ("organizer_id",)
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    def __init__(self, organizer_id: _Optional[int] = ...) -> None: ...

class GetOrganizerCredentialsRequest(_message.Message):
    __slots__ = ("email",)
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    email: str
    def __init__(self, email: _Optional[str] = ...) -> None: ...

class GetOperatorCredentialsRequest(_message.Message):
    __slots__ = ("email",)
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    email: str
    def __init__(self, email: _Optional[str] = ...) -> None: ...

class Credentials(_message.Message):
    __slots__ = ("found", "subject_id", "event_id", "password_hash", "account")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    found: bool
    subject_id: int
    event_id: int
    password_hash: str
    account: str
    def __init__(self, found: _Optional[bool] = ..., subject_id: _Optional[int] = ..., event_id: _Optional[int] = ..., password_hash: _Optional[str] = ..., account: _Optional[str] = ...) -> None: ...

class UpdatePasswordHashRequest(_message.Message):
    __slots__ = ("subject_id", "password_hash")
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    subject_id: int
    password_hash: str
    def __init__(self, subject_id: _Optional[int] = ..., password_hash: _Optional[str] = ...) -> None: ...

class UpdatePasswordHashResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateEventRequest(_message.Message):
    __slots__ = ("organizer_id", "name", "starts_on", "ends_on", "match_tolerance", "retention_days")
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STARTS_ON_FIELD_NUMBER: _ClassVar[int]
    ENDS_ON_FIELD_NUMBER: _ClassVar[int]
    MATCH_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    name: str
    starts_on: str
    ends_on: str
    match_tolerance: float
    retention_days: int
    def __init__(self, organizer_id: _Optional[int] = ..., name: _Optional[str] = ..., starts_on: _Optional[str] = ..., ends_on: _Optional[str] = ..., match_tolerance: _Optional[float] = ..., retention_days: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "code", "name", "organizer_id", "match_tolerance", "retention_days", "starts_on", "ends_on")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    STARTS_ON_FIELD_NUMBER: _ClassVar[int]
    ENDS_ON_FIELD_NUMBER: _ClassVar[int]
    id: int
    code: str
    name: str
    organizer_id: int
    match_tolerance: float
    retention_days: int
    starts_on: str
    ends_on: str
    def __init__(self, id: _Optional[int] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., organizer_id: _Optional[int] = ..., match_tolerance: _Optional[float] = ..., retention_days: _Optional[int] = ..., starts_on: _Optional[str] = ..., ends_on: _Optional[str] = ...) -> None: ...

class GetEventByCodeRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class GetEventByCodeResponse(_message.Message):
    __slots__ = ("found", "event")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    found: bool
    event: Event
    def __init__(self, found: _Optional[bool] = ..., event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class CheckAvailabilityRequest(_message.Message):
    __slots__ = ("event_code", "username")
    EVENT_CODE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    event_code: str
    username: str
    def __init__(self, event_code: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class CheckAvailabilityResponse(_message.Message):
    __slots__ = ("username_taken",)
    USERNAME_TAKEN_FIELD_NUMBER: _ClassVar[int]
    username_taken: bool
    def __init__(self, username_taken: _Optional[bool] = ...) -> None: ...

class CreateAttendeeRequest(_message.Message):
    __slots__ = ("event_code", "username", "password_hash")
    EVENT_CODE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    event_code: str
    username: str
    password_hash: str
    def __init__(self, event_code: _Optional[str] = ..., username: _Optional[str] = ..., password_hash: _Optional[str] = ...) -> None: ...

class Attendee(_message.Message):
    __slots__ = ("id", "event_id", "username")
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    id: int
    event_id: int
    username: str
    def __init__(self, id: _Optional[int] = ..., event_id: _Optional[int] = ..., username: _Optional[str] = ...) -> None: ...

class GetAttendeeCredentialsRequest(_message.Message):
    __slots__ = ("event_code", "username")
    EVENT_CODE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    event_code: str
    username: str
    def __init__(self, event_code: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class FaceBox(_message.Message):
    __slots__ = ("top", "right", "bottom", "left")
    TOP_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    BOTTOM_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    top: int
    right: int
    bottom: int
    left: int
    def __init__(self, top: _Optional[int] = ..., right: _Optional[int] = ..., bottom: _Optional[int] = ..., left: _Optional[int] = ...) -> None: ...

class SaveSelfieRequest(_message.Message):
    __slots__ = ("attendee_id", "jpeg", "encoding", "face", "add")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    jpeg: bytes
    encoding: _containers.RepeatedScalarFieldContainer[float]
    face: FaceBox
    add: bool
    def __init__(self, attendee_id: _Optional[int] = ..., jpeg: _Optional[bytes] = ..., encoding: _Optional[_Iterable[float]] = ..., face: _Optional[_Union[FaceBox, _Mapping]] = ..., add: _Optional[bool] = ...) -> None: ...

class SaveSelfieResponse(_message.Message):
    __slots__ = ("matches", "stored_bytes", "selfies")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    STORED_BYTES_FIELD_NUMBER: _ClassVar[int]
    SELFIES_FIELD_NUMBER: _ClassVar[int]
    matches: int
    stored_bytes: int
    selfies: int
    def __init__(self, matches: _Optional[int] = ..., stored_bytes: _Optional[int] = ..., selfies: _Optional[int] = ...) -> None: ...

class EventRef(_message.Message):
    __slots__ = ("organizer_id", "event_id")
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    event_id: int
    def __init__(self, organizer_id: _Optional[int] = ..., event_id: _Optional[int] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("organizer_id",)
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    def __init__(self, organizer_id: _Optional[int] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class UpdateEventRequest(_message.Message):
    __slots__ = ("organizer_id", "event_id", "name", "starts_on", "ends_on", "match_tolerance", "retention_days")
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STARTS_ON_FIELD_NUMBER: _ClassVar[int]
    ENDS_ON_FIELD_NUMBER: _ClassVar[int]
    MATCH_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    event_id: int
    name: str
    starts_on: str
    ends_on: str
    match_tolerance: float
    retention_days: int
    def __init__(self, organizer_id: _Optional[int] = ..., event_id: _Optional[int] = ..., name: _Optional[str] = ..., starts_on: _Optional[str] = ..., ends_on: _Optional[str] = ..., match_tolerance: _Optional[float] = ..., retention_days: _Optional[int] = ...) -> None: ...

class DeleteEventResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Progress(_message.Message):
    __slots__ = ("pending", "processing", "done", "failed")
    PENDING_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    pending: int
    processing: int
    done: int
    failed: int
    def __init__(self, pending: _Optional[int] = ..., processing: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class EventStats(_message.Message):
    __slots__ = ("attendees", "selfies", "photos", "faces", "matches", "suggestions", "missed_photos")
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    SELFIES_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    MISSED_PHOTOS_FIELD_NUMBER: _ClassVar[int]
    attendees: int
    selfies: int
    photos: Progress
    faces: int
    matches: int
    suggestions: int
    missed_photos: int
    def __init__(self, attendees: _Optional[int] = ..., selfies: _Optional[int] = ..., photos: _Optional[_Union[Progress, _Mapping]] = ..., faces: _Optional[int] = ..., matches: _Optional[int] = ..., suggestions: _Optional[int] = ..., missed_photos: _Optional[int] = ...) -> None: ...

class CreateInviteRequest(_message.Message):
    __slots__ = ("organizer_id", "event_id", "valid_for_seconds")
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VALID_FOR_SECONDS_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    event_id: int
    valid_for_seconds: int
    def __init__(self, organizer_id: _Optional[int] = ..., event_id: _Optional[int] = ..., valid_for_seconds: _Optional[int] = ...) -> None: ...

class Invite(_message.Message):
    __slots__ = ("token", "event_id", "expires_at_unix")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    token: str
    event_id: int
    expires_at_unix: int
    def __init__(self, token: _Optional[str] = ..., event_id: _Optional[int] = ..., expires_at_unix: _Optional[int] = ...) -> None: ...

class CheckInviteRequest(_message.Message):
    __slots__ = ("token", "username")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    token: str
    username: str
    def __init__(self, token: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class CheckInviteResponse(_message.Message):
    __slots__ = ("valid", "username_taken", "event_id")
    VALID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_TAKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    username_taken: bool
    event_id: int
    def __init__(self, valid: _Optional[bool] = ..., username_taken: _Optional[bool] = ..., event_id: _Optional[int] = ...) -> None: ...

class RegisterWithInviteRequest(_message.Message):
    __slots__ = ("token", "username", "password_hash", "jpeg", "encoding", "face")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    token: str
    username: str
    password_hash: str
    jpeg: bytes
    encoding: _containers.RepeatedScalarFieldContainer[float]
    face: FaceBox
    def __init__(self, token: _Optional[str] = ..., username: _Optional[str] = ..., password_hash: _Optional[str] = ..., jpeg: _Optional[bytes] = ..., encoding: _Optional[_Iterable[float]] = ..., face: _Optional[_Union[FaceBox, _Mapping]] = ...) -> None: ...

class RegisterWithInviteResponse(_message.Message):
    __slots__ = ("attendee", "matches", "stored_bytes")
    ATTENDEE_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    STORED_BYTES_FIELD_NUMBER: _ClassVar[int]
    attendee: Attendee
    matches: int
    stored_bytes: int
    def __init__(self, attendee: _Optional[_Union[Attendee, _Mapping]] = ..., matches: _Optional[int] = ..., stored_bytes: _Optional[int] = ...) -> None: ...

class PhotoUpload(_message.Message):
    __slots__ = ("content", "filename")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    filename: str
    def __init__(self, content: _Optional[bytes] = ..., filename: _Optional[str] = ...) -> None: ...

class AddPhotosRequest(_message.Message):
    __slots__ = ("organizer_id", "event_id", "photos")
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    event_id: int
    photos: _containers.RepeatedCompositeFieldContainer[PhotoUpload]
    def __init__(self, organizer_id: _Optional[int] = ..., event_id: _Optional[int] = ..., photos: _Optional[_Iterable[_Union[PhotoUpload, _Mapping]]] = ...) -> None: ...

class AddedPhoto(_message.Message):
    __slots__ = ("id", "status", "duplicate")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    id: int
    status: str
    duplicate: bool
    def __init__(self, id: _Optional[int] = ..., status: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class AddPhotosResponse(_message.Message):
    __slots__ = ("photos",)
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    photos: _containers.RepeatedCompositeFieldContainer[AddedPhoto]
    def __init__(self, photos: _Optional[_Iterable[_Union[AddedPhoto, _Mapping]]] = ...) -> None: ...

class ListMyPhotosRequest(_message.Message):
    __slots__ = ("attendee_id", "cursor", "limit")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    cursor: str
    limit: int
    def __init__(self, attendee_id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class MyPhoto(_message.Message):
    __slots__ = ("photo_id", "distance", "detected_at")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    photo_id: int
    distance: float
    detected_at: str
    def __init__(self, photo_id: _Optional[int] = ..., distance: _Optional[float] = ..., detected_at: _Optional[str] = ...) -> None: ...

class ListMyPhotosResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[MyPhoto]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[MyPhoto, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetPhotoImageRequest(_message.Message):
    __slots__ = ("photo_id", "kind", "viewer_role", "viewer_id")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VIEWER_ROLE_FIELD_NUMBER: _ClassVar[int]
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    photo_id: int
    kind: ImageKind
    viewer_role: ViewerRole
    viewer_id: int
    def __init__(self, photo_id: _Optional[int] = ..., kind: _Optional[_Union[ImageKind, str]] = ..., viewer_role: _Optional[_Union[ViewerRole, str]] = ..., viewer_id: _Optional[int] = ...) -> None: ...

class PhotoImage(_message.Message):
    __slots__ = ("jpeg",)
    JPEG_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    def __init__(self, jpeg: _Optional[bytes] = ...) -> None: ...

class DeleteAttendeeRequest(_message.Message):
    __slots__ = ("attendee_id",)
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    def __init__(self, attendee_id: _Optional[int] = ...) -> None: ...

class DeleteAttendeeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSuggestionsRequest(_message.Message):
    __slots__ = ("attendee_id", "cursor", "limit")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    cursor: str
    limit: int
    def __init__(self, attendee_id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SuggestedPhoto(_message.Message):
    __slots__ = ("photo_id", "distance", "suggested_at")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AT_FIELD_NUMBER: _ClassVar[int]
    photo_id: int
    distance: float
    suggested_at: str
    def __init__(self, photo_id: _Optional[int] = ..., distance: _Optional[float] = ..., suggested_at: _Optional[str] = ...) -> None: ...

class ListSuggestionsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SuggestedPhoto]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[SuggestedPhoto, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class AnswerSuggestionRequest(_message.Message):
    __slots__ = ("attendee_id", "photo_id", "answer")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    photo_id: int
    answer: Answer
    def __init__(self, attendee_id: _Optional[int] = ..., photo_id: _Optional[int] = ..., answer: _Optional[_Union[Answer, str]] = ...) -> None: ...

class AnswerSuggestionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RejectMatchRequest(_message.Message):
    __slots__ = ("attendee_id", "photo_id")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    photo_id: int
    def __init__(self, attendee_id: _Optional[int] = ..., photo_id: _Optional[int] = ...) -> None: ...

class RejectMatchResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MissedPhotoRef(_message.Message):
    __slots__ = ("attendee_id", "photo_id")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    photo_id: int
    def __init__(self, attendee_id: _Optional[int] = ..., photo_id: _Optional[int] = ...) -> None: ...

class MissedPhoto(_message.Message):
    __slots__ = ("photo_id", "status", "found")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    photo_id: int
    status: str
    found: bool
    def __init__(self, photo_id: _Optional[int] = ..., status: _Optional[str] = ..., found: _Optional[bool] = ...) -> None: ...
