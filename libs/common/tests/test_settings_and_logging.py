from __future__ import annotations

import json
import logging

import pytest
from findme_common.logging import JsonFormatter, request_id_var
from findme_common.settings import ServiceSettings, load_settings
from pydantic_settings import SettingsConfigDict


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_DEMO_", frozen=True)
    secret: str


def test_settings_read_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINDME_DEMO_SECRET", "s3")
    monkeypatch.setenv("FINDME_DEMO_PORT", "6001")
    settings = load_settings(DemoSettings)
    assert (settings.secret, settings.bind_address) == ("s3", "127.0.0.1:6001")


def test_missing_required_setting_exits_with_its_env_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FINDME_DEMO_SECRET", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_settings(DemoSettings)
    assert exit_info.value.code == 2
    assert "FINDME_DEMO_SECRET" in capsys.readouterr().err


def test_json_log_line_has_service_request_id_and_extras() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.attempt = 3
    token = request_id_var.set("abc")
    try:
        line = json.loads(JsonFormatter("auth").format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello you"
    assert line["level"] == "warning"
    assert line["service"] == "auth"
    assert line["request_id"] == "abc"
    assert line["attempt"] == 3
