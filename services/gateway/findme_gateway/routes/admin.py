"""The operators' pages: log in at /admin/login; /admin/performance draws the
services' metrics live (its data at /admin/performance/data). Both answer an
operator's token only; anyone else gets the 404 of a page that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from findme_gateway.deps import CurrentOperator, SettingsDep
from findme_gateway.flows import performance
from findme_gateway.routes.pages import PAGE_HEADERS, render

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/login")
async def login_page() -> HTMLResponse:
    return HTMLResponse(render("admin-login.html"), headers=PAGE_HEADERS)


@router.get("/performance")
async def performance_page(operator: CurrentOperator) -> HTMLResponse:
    return HTMLResponse(render("admin.html"), headers=PAGE_HEADERS)


@router.get("/performance/data")
async def performance_data(operator: CurrentOperator, settings: SettingsDep) -> JSONResponse:
    data: dict[str, Any] = await performance.snapshot(settings)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})
