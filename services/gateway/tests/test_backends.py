"""The gateway's channels retry exactly what the protos declare safe to repeat."""

from __future__ import annotations

from findme_common.grpc_client import idempotent_methods
from findme_gateway.backends import AUTH_SERVICE, EVENTS_SERVICE, SELFIE_SERVICE

WRITES = (
    "CreateAttendee",
    "CreateOrganizer",
    "CreateEvent",
    "UpdateEvent",
    "SaveSelfie",
    "AddPhotos",
    "DeleteAttendee",
    "DeleteEvent",
    "RegisterWithInvite",
    "CreateInvite",
)


def test_writes_are_never_retried() -> None:
    retried = {m.split("/")[1] for m in idempotent_methods(AUTH_SERVICE, EVENTS_SERVICE)}
    assert not retried & set(WRITES)
    assert set(WRITES) <= set(EVENTS_SERVICE.methods_by_name)


def test_reads_and_pure_computations_are_retried() -> None:
    retried = set(idempotent_methods(AUTH_SERVICE, EVENTS_SERVICE, SELFIE_SERVICE))
    assert {
        "findme.events.v1.EventsService/GetEventByCode",
        "findme.events.v1.EventsService/CheckAvailability",
        "findme.events.v1.EventsService/ListMyPhotos",
        "findme.auth.v1.AuthService/HashPassword",
        "findme.auth.v1.AuthService/VerifyPassword",
        "findme.selfie.v1.SelfieService/ProcessSelfie",
        "findme.selfie.v1.SelfieService/AnalyzePhoto",
    } <= retried
