"""Invite tokens never reach a log line."""

from __future__ import annotations

import logging

from findme_gateway.app import create_app
from findme_gateway.redaction import loggable_path


def test_invite_tokens_are_replaced_other_paths_kept() -> None:
    assert loggable_path("/api/invites/s3cr3t-T0ken/register") == "/api/invites/<redacted>/register"
    assert loggable_path("/api/invites/s3cr3t") == "/api/invites/<redacted>"
    assert loggable_path("/api/events/12/invites") == "/api/events/12/invites"
    assert loggable_path("/api/me/photos") == "/api/me/photos"
    assert loggable_path(None) is None


async def test_the_access_log_of_an_invite_registration_holds_no_token(
    make_settings, open_client, caplog
) -> None:
    app = create_app(make_settings(access_log=True))
    token = "Zq9-invite-token-that-must-stay-secret"
    with caplog.at_level(logging.DEBUG):
        async with open_client(app) as http:
            await http.post(
                f"/api/invites/{token}/register",
                data={"username": "ada", "password": "long enough 1"},
                files={"file": ("me.jpg", b"\xff\xd8\xff")},
            )
    access = [r for r in caplog.records if r.name == "findme_gateway.access"]
    assert [r.path for r in access] == ["/api/invites/<redacted>/register"]  # type: ignore[attr-defined]
    # Every record of the server side (httpx here is the test's own client).
    for record in (r for r in caplog.records if not r.name.startswith("httpx")):
        assert token not in record.getMessage()
        assert token not in str(record.__dict__)
