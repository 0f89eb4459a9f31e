"""What the app serves besides the API: the interactive docs only when asked for."""

from __future__ import annotations

from findme_gateway.app import create_app


async def test_interactive_docs_are_off_by_default_the_schema_stays(client) -> None:
    assert (await client.get("/docs")).status_code == 404
    assert (await client.get("/redoc")).status_code == 404
    assert (await client.get("/openapi.json")).status_code == 200


async def test_interactive_docs_when_asked_for(make_settings, open_client) -> None:
    async with open_client(create_app(make_settings(api_docs=True))) as client:
        docs = await client.get("/docs")

    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
