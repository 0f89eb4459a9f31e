from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_ATTENDEE: _ClassVar[Role]
    ROLE_ORGANIZER: _ClassVar[Role]
    ROLE_OPERATOR: _ClassVar[Role]
ROLE_UNSPECIFIED: Role
ROLE_ATTENDEE: Role
ROLE_ORGANIZER: Role
ROLE_OPERATOR: Role

class HashPasswordRequest(_message.Message):
    __slots__ = ("password",)
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    password: str
    def __init__(self, password: _Optional[str] = ...) -> None: ...

class HashPasswordResponse(_message.Message):
    __slots__ = ("password_hash",)
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    password_hash: str
    def __init__(self, password_hash: _Optional[str] = ...) -> None: ...

class ThrottleKey(_message.Message):
    __slots__ = ("scope", "account", "client_address")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    scope: str
    account: str
    client_address: str
    def __init__(self, scope: _Optional[str] = ..., account: _Optional[str] = ..., client_address: _Optional[str] = ...) -> None: ...

class VerifyPasswordRequest(_message.Message):
    __slots__ = ("password", "password_hash", "throttle")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_FIELD_NUMBER: _ClassVar[int]
    password: str
    password_hash: str
    throttle: ThrottleKey
    def __init__(self, password: _Optional[str] = ..., password_hash: _Optional[str] = ..., throttle: _Optional[_Union[ThrottleKey, _Mapping]] = ...) -> None: ...

class VerifyPasswordResponse(_message.Message):
    __slots__ = ("valid", "needs_rehash", "new_hash")
    VALID_FIELD_NUMBER: _ClassVar[int]
    NEEDS_REHASH_FIELD_NUMBER: _ClassVar[int]
    NEW_HASH_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    needs_rehash: bool
    new_hash: str
    def __init__(self, valid: _Optional[bool] = ..., needs_rehash: _Optional[bool] = ..., new_hash: _Optional[str] = ...) -> None: ...

class IssueTokenRequest(_message.Message):
    __slots__ = ("role", "subject_id", "event_id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    role: Role
    subject_id: int
    event_id: int
    def __init__(self, role: _Optional[_Union[Role, str]] = ..., subject_id: _Optional[int] = ..., event_id: _Optional[int] = ...) -> None: ...

class IssueTokenResponse(_message.Message):
    __slots__ = ("access_token", "token_type", "expires_in")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    token_type: str
    expires_in: int
    def __init__(self, access_token: _Optional[str] = ..., token_type: _Optional[str] = ..., expires_in: _Optional[int] = ...) -> None: ...
