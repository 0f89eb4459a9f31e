from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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

class ProcessSelfieRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    def __init__(self, image: _Optional[bytes] = ...) -> None: ...

class SelfieQuality(_message.Message):
    __slots__ = ("source_format", "source_width", "source_height", "face_width", "upsampled", "jpeg_quality")
    SOURCE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FACE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    UPSAMPLED_FIELD_NUMBER: _ClassVar[int]
    JPEG_QUALITY_FIELD_NUMBER: _ClassVar[int]
    source_format: str
    source_width: int
    source_height: int
    face_width: int
    upsampled: bool
    jpeg_quality: int
    def __init__(self, source_format: _Optional[str] = ..., source_width: _Optional[int] = ..., source_height: _Optional[int] = ..., face_width: _Optional[int] = ..., upsampled: _Optional[bool] = ..., jpeg_quality: _Optional[int] = ...) -> None: ...

class ProcessSelfieResponse(_message.Message):
    __slots__ = ("jpeg", "width", "height", "face", "encoding", "quality")
    JPEG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    width: int
    height: int
    face: FaceBox
    encoding: _containers.RepeatedScalarFieldContainer[float]
    quality: SelfieQuality
    def __init__(self, jpeg: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., face: _Optional[_Union[FaceBox, _Mapping]] = ..., encoding: _Optional[_Iterable[float]] = ..., quality: _Optional[_Union[SelfieQuality, _Mapping]] = ...) -> None: ...

class AnalyzePhotoRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    def __init__(self, image: _Optional[bytes] = ...) -> None: ...

class DetectedFace(_message.Message):
    __slots__ = ("box", "encoding")
    BOX_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    box: FaceBox
    encoding: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, box: _Optional[_Union[FaceBox, _Mapping]] = ..., encoding: _Optional[_Iterable[float]] = ...) -> None: ...

class AnalyzePhotoResponse(_message.Message):
    __slots__ = ("display_jpeg", "display_width", "display_height", "thumbnail_jpeg", "faces", "source_format")
    DISPLAY_JPEG_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_WIDTH_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_JPEG_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    display_jpeg: bytes
    display_width: int
    display_height: int
    thumbnail_jpeg: bytes
    faces: _containers.RepeatedCompositeFieldContainer[DetectedFace]
    source_format: str
    def __init__(self, display_jpeg: _Optional[bytes] = ..., display_width: _Optional[int] = ..., display_height: _Optional[int] = ..., thumbnail_jpeg: _Optional[bytes] = ..., faces: _Optional[_Iterable[_Union[DetectedFace, _Mapping]]] = ..., source_format: _Optional[str] = ...) -> None: ...

class LookCloserRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    def __init__(self, image: _Optional[bytes] = ...) -> None: ...

class LookCloserResponse(_message.Message):
    __slots__ = ("faces", "display_width", "display_height")
    FACES_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_WIDTH_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    faces: _containers.RepeatedCompositeFieldContainer[DetectedFace]
    display_width: int
    display_height: int
    def __init__(self, faces: _Optional[_Iterable[_Union[DetectedFace, _Mapping]]] = ..., display_width: _Optional[int] = ..., display_height: _Optional[int] = ...) -> None: ...
