"""Selfie service settings (env prefix FINDME_SELFIE_)."""

from __future__ import annotations

from findme_common.settings import ServiceSettings, usable_cpus
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict


class SelfieSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_SELFIE_", extra="ignore", frozen=True)

    port: int = 50053
    # Prometheus metrics: GET /metrics on this port (internal only).
    metrics_port: int = Field(default=9103, ge=0)

    # Worker processes doing dlib work (dlib holds the GIL, so threads would not help).
    workers: int = Field(default_factory=usable_cpus, ge=1)
    # Jobs allowed to wait beyond the busy workers; past that, callers get `overloaded`
    # at once instead of queueing into their deadline. None means 2 * workers.
    queue_limit: int | None = Field(default=None, ge=0)

    max_bytes: int = Field(default=15 * 1024 * 1024, ge=1)
    max_pixels: int = Field(default=50_000_000, ge=1)
    # A selfie needs no more than a phone's main camera gives (12-24 MP); decoding is
    # what a huge one costs (a 49 MP PNG took ~3 s of a worker), so selfies stop here.
    max_selfie_pixels: int = Field(default=25_000_000, ge=1)

    selfie_detect_max_side: int = Field(default=800, ge=64)
    selfie_store_max_side: int = Field(default=600, ge=64)
    selfie_target_bytes: int = Field(default=200_000, ge=10_000)
    # Smallest accepted face width, in pixels of the detection copy.
    min_face_px: int = Field(default=60, ge=1)
    # Faces narrower than this fraction of the largest one are treated as bystanders
    # in the background of a selfie rather than a second subject.
    background_face_ratio: float = Field(default=0.5, ge=0.0, le=1.0)
    # A second face weaker than this (HOG score) is not taken for another person.
    # Measured: 57 of 60 hand-labelled faces in group photos score >= 0.3 (the rest,
    # tiny faces found only by upsampling, 0.22 and below), whole selfie faces 0.59 to
    # 2.6; the mission patch on scikit-image's astronaut scores 0.10 beside her face.
    min_other_face_score: float = Field(default=0.25, ge=0.0)
    # Refuse a selfie face when more than this fraction of the detector's box lies
    # outside the frame. Measured on labelled faces: up to ~0.25 outside, the encoding
    # stays within 0.31 of the uncut face; at ~0.33 it drifts to 0.56-0.66, i.e. no
    # longer the same person at tolerance 0.6.
    max_face_outside: float = Field(default=0.3, ge=0.0, le=1.0)

    photo_detect_max_side: int = Field(default=1600, ge=64)
    photo_detect_upsample: int = Field(default=1, ge=0, le=2)
    # Photo encodings are computed on a copy of up to this size (never smaller than the
    # detection copy): group-shot faces are small, and the encoder's 150 px face chip is
    # only as sharp as the pixels it is cut from. JPEGs are not decoded larger for it:
    # the copy is what DCT scaling to the detection size yields anyway.
    photo_encode_max_side: int = Field(default=3200, ge=64)
    # "You missed me here" (LookCloser): a larger copy than the first analysis, in
    # overlapping tiles (memory bounded by the tile whatever the photo), HOG at
    # upsample 2: faces from ~20 px of this copy are found, 2.5x smaller than the
    # first pass finds (40 px of a 1600 px copy). The overlap holds every face the
    # first pass could miss, so none is cut in every tile (bigger ones it found
    # already). bench.detection: recall on faces ~20 px in the first pass's copy
    # 0.333 -> 0.889, at 2-6x the first pass's time (seconds of one core).
    closer_look_max_side: int = Field(default=2000, ge=64)
    closer_look_tile_side: int = Field(default=800, ge=64)
    closer_look_tile_overlap: int = Field(default=100, ge=0)
    closer_look_upsample: int = Field(default=2, ge=0, le=3)
    display_max_side: int = Field(default=1600, ge=64)
    thumbnail_max_side: int = Field(default=320, ge=32)
    display_jpeg_quality: int = Field(default=82, ge=30, le=95)
    thumbnail_jpeg_quality: int = Field(default=78, ge=30, le=95)

    @model_validator(mode="after")
    def _store_not_larger_than_detect(self) -> SelfieSettings:
        if self.selfie_store_max_side > self.selfie_detect_max_side:
            raise ValueError("selfie_store_max_side must not exceed selfie_detect_max_side")
        return self

    @model_validator(mode="after")
    def _tiles_overlap_less_than_their_side(self) -> SelfieSettings:
        if self.closer_look_tile_overlap >= self.closer_look_tile_side:
            raise ValueError("closer_look_tile_overlap must be below closer_look_tile_side")
        return self

    @property
    def effective_queue_limit(self) -> int:
        return 2 * self.workers if self.queue_limit is None else self.queue_limit
