"""Operator login (operators are created by the admin CLI, never signed up here)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from findme_gateway.deps import OPERATOR_COOKIE, BackendsDep, ClientAddress, LoginRateLimit
from findme_gateway.flows import accounts
from findme_gateway.schemas import OrganizerLoginIn, TokenOut

router = APIRouter(prefix="/api/operators", tags=["operators"])


@router.post("/login", dependencies=[LoginRateLimit])
async def login(
    body: OrganizerLoginIn,
    backends: BackendsDep,
    client: ClientAddress,
    request: Request,
    response: Response,
) -> TokenOut:
    token = await accounts.login_operator(
        backends=backends, email=body.email, password=body.password, client_address=client
    )
    # For the operators' pages under /admin; scripts never read it.
    response.set_cookie(
        OPERATOR_COOKIE,
        token.access_token,
        max_age=token.expires_in,
        path="/admin",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return TokenOut(access_token=token.access_token, expires_in=token.expires_in)
