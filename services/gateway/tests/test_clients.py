"""Every method the gateway marks as safe to retry exists in the contracts."""

from __future__ import annotations

from findme.auth.v1 import auth_pb2
from findme.events.v1 import events_pb2
from findme.selfie.v1 import selfie_pb2
from findme_gateway.clients import _IDEMPOTENT, idempotent_methods

DESCRIPTORS = {
    "findme.auth.v1.AuthService": auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
    "findme.events.v1.EventsService": events_pb2.DESCRIPTOR.services_by_name["EventsService"],
    "findme.selfie.v1.SelfieService": selfie_pb2.DESCRIPTOR.services_by_name["SelfieService"],
}


def test_idempotent_methods_exist() -> None:
    for service, methods in _IDEMPOTENT.items():
        known = set(DESCRIPTORS[service].methods_by_name)
        assert set(methods) <= known, set(methods) - known


def test_writes_are_never_retried() -> None:
    names = {m.split("/")[1] for s in _IDEMPOTENT for m in idempotent_methods(s)}
    for write in (
        "CreateAttendee",
        "CreateOrganizer",
        "CreateEvent",
        "SaveSelfie",
        "AddPhotos",
        "DeleteAttendee",
        "DeleteEvent",
        "RegisterWithInvite",
        "CreateInvite",
    ):
        assert write not in names
