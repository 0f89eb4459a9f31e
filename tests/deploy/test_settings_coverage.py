"""Every setting a service cannot start without is provided wherever it runs, and every
FINDME_* variable the deployment files set is a real setting (the Settings classes
ignore unknown names, so a typo would otherwise pass silently)."""

from __future__ import annotations

import pytest

from .deployfiles import (
    BUILD_ARG,
    COMPOSE_RUNS,
    RENDER_RUNS,
    SERVICES,
    compose,
    image,
    known_env,
    render_env,
    render_services,
    required_env,
)


def test_every_service_has_required_settings_to_check() -> None:
    # The introspection finds what the code demands: if this changes, the
    # deployment files must follow.
    assert required_env("gateway") == {"FINDME_GATEWAY_TOKEN_PUBLIC_KEY"}
    assert required_env("auth") == {"FINDME_AUTH_TOKEN_PRIVATE_KEY"}
    assert required_env("events") == {"FINDME_EVENTS_DATABASE_URL"}
    assert required_env("selfie") == set()
    assert required_env("worker") == {"FINDME_WORKER_DATABASE_URL"}


@pytest.mark.parametrize("container", sorted(COMPOSE_RUNS))
def test_compose_provides_required_settings(container: str) -> None:
    service = COMPOSE_RUNS[container]
    environment = compose()["services"][container].get("environment", {})
    missing = required_env(service) - set(environment)
    assert not missing, f"compose service {container} lacks {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(RENDER_RUNS))
def test_render_provides_required_settings(name: str) -> None:
    service = render_services()[name]
    provided = set(render_env(service))
    missing = required_env(RENDER_RUNS[name]) - provided
    assert not missing, f"render service {name} lacks {sorted(missing)}"


def _findme_names(names: set[str]) -> set[str]:
    # FINDME_SERVICE is the Dockerfile's build argument (Render passes env vars to the
    # build), not a setting.
    return {name for name in names if name.startswith("FINDME_") and name != BUILD_ARG}


@pytest.mark.parametrize("container", sorted(COMPOSE_RUNS))
def test_compose_sets_only_real_settings(container: str) -> None:
    service = COMPOSE_RUNS[container]
    environment = compose()["services"][container].get("environment", {})
    unknown = _findme_names(set(environment)) - known_env(service)
    assert not unknown, f"compose service {container} sets unknown {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(RENDER_RUNS))
def test_render_sets_only_real_settings(name: str) -> None:
    service = render_services()[name]
    names = set(render_env(service))
    unknown = _findme_names(names) - known_env(RENDER_RUNS[name])
    assert not unknown, f"render service {name} sets unknown {sorted(unknown)}"


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_sets_only_real_settings(service: str) -> None:
    unknown = _findme_names(set(image(service).env())) - known_env(service)
    assert not unknown, f"the {service} image sets unknown {sorted(unknown)}"


@pytest.mark.parametrize("service", SERVICES)
def test_containers_listen_on_every_interface(service: str) -> None:
    # Settings default to 127.0.0.1, which nothing outside the container can reach.
    assert image(service).env().get(f"FINDME_{service.upper()}_HOST") == "0.0.0.0"
