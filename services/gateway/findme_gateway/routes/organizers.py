"""Organizer sign-up and login."""

from __future__ import annotations

from fastapi import APIRouter

from findme_gateway.deps import BackendsDep, ClientAddress, LoginRateLimit, RegisterRateLimit
from findme_gateway.flows import accounts
from findme_gateway.schemas import OrganizerLoginIn, OrganizerSignUpIn, TokenOut

router = APIRouter(prefix="/api/organizers", tags=["organizers"])


@router.post("", status_code=201, dependencies=[RegisterRateLimit])
async def sign_up(body: OrganizerSignUpIn, backends: BackendsDep) -> TokenOut:
    token = await accounts.sign_up_organizer(
        backends=backends, email=body.email, password=body.password
    )
    return TokenOut(access_token=token.access_token, expires_in=token.expires_in)


@router.post("/login", dependencies=[LoginRateLimit])
async def login(body: OrganizerLoginIn, backends: BackendsDep, client: ClientAddress) -> TokenOut:
    token = await accounts.login_organizer(
        backends=backends, email=body.email, password=body.password, client_address=client
    )
    return TokenOut(access_token=token.access_token, expires_in=token.expires_in)
