import pytest
from findme_events.config import EventsSettings, async_database_url
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/findme", "postgresql+asyncpg://u:p@db:5432/findme"),
        ("postgres://u@db/findme", "postgresql+asyncpg://u@db/findme"),
        ("postgresql+asyncpg://u@db/findme", "postgresql+asyncpg://u@db/findme"),
        (
            "postgresql://postgres@/findme?host=/tmp/pg",
            "postgresql+asyncpg://postgres@/findme?host=/tmp/pg",
        ),
    ],
)
def test_database_urls_get_the_asyncpg_driver(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINDME_EVENTS_DATABASE_URL", "postgresql://u@db/findme")
    monkeypatch.setenv("FINDME_EVENTS_DEFAULT_MATCH_TOLERANCE", "0.5")
    settings = EventsSettings()  # type: ignore[call-arg]
    assert settings.port == 50052
    assert settings.database_url == "postgresql+asyncpg://u@db/findme"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.default_match_tolerance == 0.5
    assert settings.default_retention_days == 30


def test_database_url_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINDME_EVENTS_DATABASE_URL", raising=False)
    with pytest.raises(ValidationError):
        EventsSettings()  # type: ignore[call-arg]


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValidationError):
        EventsSettings(database_url="mysql://u@db/findme")


@pytest.mark.parametrize("tolerance", [0.1, 1.5])
def test_the_default_tolerance_obeys_the_bounds_an_organizer_gets(tolerance: float) -> None:
    # One rule for both: an event could not be given what the default allowed.
    with pytest.raises(ValidationError, match="default_match_tolerance"):
        EventsSettings(database_url="postgresql://u@db/findme", default_match_tolerance=tolerance)


def test_the_photo_worker_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    from findme_photo_worker.config import WorkerSettings

    monkeypatch.setenv("FINDME_WORKER_DATABASE_URL", "postgres://u@db/findme")
    monkeypatch.setenv("FINDME_WORKER_CONCURRENCY", "4")
    monkeypatch.setenv("FINDME_EVENTS_BLOB_DIR", "/not/the/worker/s")
    settings = WorkerSettings()  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+asyncpg://u@db/findme"
    assert settings.concurrency == 4
    assert str(settings.blob_dir) == ".data/blobs"
    assert settings.selfie_target == "dns:///127.0.0.1:50053"
