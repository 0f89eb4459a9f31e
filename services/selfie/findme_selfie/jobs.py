"""Job entry points the gRPC process submits to workers by reference.

Importing the pipelines loads dlib's models (~100 MB); the gRPC process never needs
them, so the import happens inside the worker, where the forkserver preloaded it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from findme_selfie.config import SelfieSettings
    from findme_selfie.schemas import CloserLook, PhotoResult, SelfieResult


def process_selfie(data: bytes, settings: SelfieSettings) -> SelfieResult:
    from findme_selfie import pipelines

    return pipelines.process_selfie(data, settings)


def analyze_photo(data: bytes, settings: SelfieSettings) -> PhotoResult:
    from findme_selfie import pipelines

    return pipelines.analyze_photo(data, settings)


def look_closer(data: bytes, settings: SelfieSettings) -> CloserLook:
    from findme_selfie import pipelines

    return pipelines.look_closer(data, settings)
