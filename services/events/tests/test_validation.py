"""Every input check of the events service: what passes comes back as stored, what
does not is refused with its field's reason."""

from __future__ import annotations

import math
from datetime import date

import pytest
from findme_common.refusals import Refusal
from findme_events import validation


def reason(call: object) -> str:
    with pytest.raises(Refusal) as refused:
        call()  # type: ignore[operator]
    return refused.value.reason.value


def test_tolerance_bounds() -> None:
    assert validation.tolerance(None) is None
    assert validation.tolerance(0.2) == 0.2 and validation.tolerance(1.0) == 1.0
    for value in (0.19, 1.01, math.nan, math.inf):
        assert reason(lambda v=value: validation.tolerance(v)) == "invalid_match_tolerance"


def test_retention_and_dates() -> None:
    assert validation.retention_days(3650) == 3650
    assert reason(lambda: validation.retention_days(0)) == "invalid_retention_days"
    assert reason(lambda: validation.retention_days(3651)) == "invalid_retention_days"
    assert validation.date_range("2026-06-01", None) == (date(2026, 6, 1), None)
    assert validation.day("") is None
    assert reason(lambda: validation.day("June")) == "invalid_dates"
    assert reason(lambda: validation.date_range("2026-06-02", "2026-06-01")) == "invalid_dates"


def test_event_names_and_emails() -> None:
    assert validation.event_name("  Gala ") == "Gala"
    for name in ("", "   ", "x" * 201, "Gala\x00", "tab\there"):
        assert reason(lambda n=name: validation.event_name(n)) == "invalid_event_name"
    assert validation.email(" Ana@Example.COM ") == "ana@example.com"
    for email in ("nope", "@example.com", "a@b", "a b@c.io", "a@b.io\x00", "a" * 250 + "@b.io"):
        assert reason(lambda e=email: validation.email(e)) == "invalid_email"


def test_hashes_encodings_and_files() -> None:
    assert validation.password_hash("h") == "h"
    assert reason(lambda: validation.password_hash("")) == "invalid_password_hash"
    assert reason(lambda: validation.password_hash("h" * 513)) == "invalid_password_hash"
    assert validation.encoding([0] * 128) == [0.0] * 128
    assert reason(lambda: validation.encoding([0.1] * 127)) == "invalid_encoding"
    assert reason(lambda: validation.encoding([math.nan] * 128)) == "invalid_encoding"
    assert reason(lambda: validation.selfie_jpeg(b"", max_bytes=10)) == "invalid_selfie"
    assert reason(lambda: validation.selfie_jpeg(b"x" * 11, max_bytes=10)) == "too_large"
    validation.photo_files([b"x"], max_files=1, max_bytes=1)
    assert reason(lambda: validation.photo_files([b"x"] * 2, max_files=1, max_bytes=1)) == (
        "invalid_photo_count"
    )


def test_invite_validity_and_page_size() -> None:
    assert validation.invite_validity(0, default=60) == 60
    assert validation.invite_validity(600, default=60) == 600
    assert reason(lambda: validation.invite_validity(601, default=60)) == "invalid_validity"
    assert reason(lambda: validation.invite_validity(-1, default=60)) == "invalid_validity"
    assert validation.page_size(0, largest=50) == 50
    assert validation.page_size(500, largest=50) == 50
    assert validation.page_size(5, largest=50) == 5
    assert reason(lambda: validation.page_size(-1, largest=50)) == "invalid_limit"
