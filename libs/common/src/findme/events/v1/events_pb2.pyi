from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("organizer_id", "name")
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    organizer_id: int
    name: str
    def __init__(self, organizer_id: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "code", "name", "organizer_id", "match_tolerance", "retention_days")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZER_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    id: int
    code: str
    name: str
    organizer_id: int
    match_tolerance: float
    retention_days: int
    def __init__(self, id: _Optional[int] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., organizer_id: _Optional[int] = ..., match_tolerance: _Optional[float] = ..., retention_days: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("attendee_id", "jpeg", "encoding", "face")
    ATTENDEE_ID_FIELD_NUMBER: _ClassVar[int]
    JPEG_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    attendee_id: int
    jpeg: bytes
    encoding: _containers.RepeatedScalarFieldContainer[float]
    face: FaceBox
    def __init__(self, attendee_id: _Optional[int] = ..., jpeg: _Optional[bytes] = ..., encoding: _Optional[_Iterable[float]] = ..., face: _Optional[_Union[FaceBox, _Mapping]] = ...) -> None: ...

class SaveSelfieResponse(_message.Message):
    __slots__ = ("matches", "stored_bytes")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    STORED_BYTES_FIELD_NUMBER: _ClassVar[int]
    matches: int
    stored_bytes: int
    def __init__(self, matches: _Optional[int] = ..., stored_bytes: _Optional[int] = ...) -> None: ...
