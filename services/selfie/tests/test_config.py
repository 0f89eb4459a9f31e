"""Settings come from FINDME_SELFIE_* and refuse nonsense at start-up."""

from __future__ import annotations

import pytest
from findme_selfie.config import SelfieSettings
from pydantic import ValidationError


def test_defaults_follow_the_design(monkeypatch) -> None:
    monkeypatch.setenv("FINDME_SELFIE_WORKERS", "3")

    settings = SelfieSettings()

    assert settings.port == 50053
    assert settings.workers == 3
    assert settings.effective_queue_limit == 6
    assert settings.max_bytes == 15 * 1024 * 1024
    assert settings.selfie_target_bytes == 200_000


def test_queue_limit_zero_means_no_waiting(monkeypatch) -> None:
    monkeypatch.setenv("FINDME_SELFIE_QUEUE_LIMIT", "0")

    assert SelfieSettings(workers=1).effective_queue_limit == 0


def test_stored_copy_cannot_exceed_the_detection_copy() -> None:
    with pytest.raises(ValidationError):
        SelfieSettings(selfie_store_max_side=900, selfie_detect_max_side=800)


def test_closer_look_tiles_overlap_less_than_their_side() -> None:
    with pytest.raises(ValidationError, match="closer_look_tile_overlap"):
        SelfieSettings(closer_look_tile_side=200, closer_look_tile_overlap=200)
