from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from findme_common.settings import load_settings
from findme_gateway.config import GatewaySettings


def test_defaults_match_the_deployment_layout(make_settings) -> None:
    settings = make_settings()
    defaults = GatewaySettings(token_public_key=settings.token_public_key)

    assert (defaults.host, defaults.port, defaults.workers) == ("127.0.0.1", 8000, 1)
    assert defaults.auth_target.endswith(":50051")
    assert defaults.events_target.endswith(":50052")
    assert defaults.selfie_target.endswith(":50053")
    assert defaults.trusted_proxies == []


def test_missing_public_key_stops_start_up_with_the_variable_name(monkeypatch, capsys) -> None:
    monkeypatch.delenv("FINDME_GATEWAY_TOKEN_PUBLIC_KEY", raising=False)

    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)

    assert "FINDME_GATEWAY_TOKEN_PUBLIC_KEY" in capsys.readouterr().err


def test_public_key_with_escaped_newlines_is_accepted(monkeypatch, make_settings) -> None:
    pem = make_settings().token_public_key
    monkeypatch.setenv("FINDME_GATEWAY_TOKEN_PUBLIC_KEY", pem.strip().replace("\n", "\\n"))

    assert load_settings(GatewaySettings).token_public_key == pem


def test_a_non_ed25519_key_is_refused(monkeypatch, capsys) -> None:
    ec_key = generate_private_key(SECP256R1()).public_key()
    pem = ec_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    monkeypatch.setenv("FINDME_GATEWAY_TOKEN_PUBLIC_KEY", pem)

    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)

    assert "Ed25519" in capsys.readouterr().err


def test_trusted_proxies_are_read_comma_separated(monkeypatch, make_settings) -> None:
    monkeypatch.setenv("FINDME_GATEWAY_TOKEN_PUBLIC_KEY", make_settings().token_public_key)
    monkeypatch.setenv("FINDME_GATEWAY_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12")

    assert load_settings(GatewaySettings).trusted_proxies == ["10.0.0.1", "172.16.0.0/12"]


def test_backend_targets_come_from_host_and_port(monkeypatch, make_settings) -> None:
    monkeypatch.setenv("FINDME_GATEWAY_TOKEN_PUBLIC_KEY", make_settings().token_public_key)
    for backend, port in (("AUTH", 50051), ("EVENTS", 50052), ("SELFIE", 50053)):
        monkeypatch.delenv(f"FINDME_GATEWAY_{backend}_TARGET", raising=False)
        monkeypatch.setenv(f"FINDME_GATEWAY_{backend}_HOST", f"findme-{backend.lower()}-discovery")
        monkeypatch.setenv(f"FINDME_GATEWAY_{backend}_PORT", str(port))

    settings = load_settings(GatewaySettings)

    assert settings.auth_target == "dns:///findme-auth-discovery:50051"
    assert settings.events_target == "dns:///findme-events-discovery:50052"
    assert settings.selfie_target == "dns:///findme-selfie-discovery:50053"


def test_an_explicit_target_is_used_as_is(make_settings) -> None:
    settings = make_settings(auth_target="ipv4:10.0.0.5:50051,10.0.0.6:50051", auth_host="x")

    assert settings.auth_target == "ipv4:10.0.0.5:50051,10.0.0.6:50051"


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "not-an-ip", "300.1.1.1", "gateway"])
def test_a_malformed_trusted_proxy_stops_start_up(monkeypatch, capsys, make_settings, entry):
    # uvicorn would take it for a host name no peer ever matches, silently.
    monkeypatch.setenv("FINDME_GATEWAY_TOKEN_PUBLIC_KEY", make_settings().token_public_key)
    monkeypatch.setenv("FINDME_GATEWAY_TRUSTED_PROXIES", f"10.0.0.0/8,{entry}")

    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)

    assert "FINDME_GATEWAY_TRUSTED_PROXIES" in capsys.readouterr().err


def test_several_public_keys_are_accepted(monkeypatch, make_settings) -> None:
    first = make_settings().token_public_key
    second = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    monkeypatch.setenv(
        "FINDME_GATEWAY_TOKEN_PUBLIC_KEY", (second + first).strip().replace("\n", "\\n")
    )

    assert load_settings(GatewaySettings).token_public_key == second + first
