"""Typed results the worker processes send back (plain, picklable)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    top: int
    right: int
    bottom: int
    left: int


@dataclass(frozen=True)
class SelfieResult:
    jpeg: bytes
    width: int
    height: int
    face: Box  # in the stored JPEG's coordinates
    encoding: list[float]
    source_format: str
    source_width: int
    source_height: int
    face_width: int  # in the detection copy
    upsampled: bool
    jpeg_quality: int


@dataclass(frozen=True)
class PhotoFace:
    box: Box  # in the display copy's coordinates
    encoding: list[float]


@dataclass(frozen=True)
class PhotoResult:
    display_jpeg: bytes
    display_width: int
    display_height: int
    thumbnail_jpeg: bytes
    faces: list[PhotoFace]
    source_format: str


@dataclass(frozen=True)
class CloserLook:
    faces: list[PhotoFace]  # boxes in the coordinates of analyze_photo's display copy
    display_width: int
    display_height: int
