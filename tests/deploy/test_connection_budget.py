"""Worst-case PostgreSQL connections stay under the database's limit, on Render and in
compose: every pool full (pool size + overflow) at the most instances each service
may run, with a reserve for migrations, psql and PostgreSQL's own superuser slots.

On Render a deploy starts new instances before the old ones stop, so both generations
are counted. Render Postgres allows 100 connections below 8 GB of memory, 200 below
16 GB, 400 below 32 GB and 500 above (render.com/docs/postgresql-connection-limits).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .deployfiles import (
    COMPOSE_RUNS,
    RENDER_RUNS,
    compose,
    image,
    render,
    render_services,
    render_settings,
    settings_from,
)

# Migrations (one connection), an operator's psql, PostgreSQL's superuser slots.
RESERVED = 10
# Render runs the old and the new instances of a service side by side while deploying.
DEPLOY_OVERLAP = 2


def render_connection_limit(plan: str) -> int:
    """Render Postgres' max connections for an instance type named like basic-1gb."""
    match = re.search(r"(\d+)(mb|gb)$", plan)
    assert match, f"unknown database plan {plan!r}"
    memory_gb = int(match.group(1)) / (1024 if match.group(2) == "mb" else 1)
    if memory_gb < 8:
        return 100
    if memory_gb < 16:
        return 200
    if memory_gb < 32:
        return 400
    return 500


def _pool(settings: Any) -> int:
    return int(settings.db_pool_size) + int(settings.db_max_overflow)


def render_budget() -> dict[str, int]:
    """Connections each database client may hold at its most instances."""
    budget = {}
    for name, service in render_services().items():
        if RENDER_RUNS.get(name) not in ("events", "worker"):
            continue
        instances = service.get("scaling", {}).get("maxInstances") or service.get("numInstances", 1)
        budget[name] = int(instances) * _pool(render_settings(name))
    return budget


def test_render_worst_case_fits_the_database_plan() -> None:
    plan = render()["databases"][0]["plan"]
    budget = render_budget()
    assert set(budget) == {"findme-events", "findme-photo-worker"}
    worst = DEPLOY_OVERLAP * sum(budget.values()) + RESERVED
    assert worst <= render_connection_limit(plan), (budget, worst)


@pytest.mark.parametrize(
    ("plan", "limit"),
    [
        ("basic-256mb", 100),
        ("basic-1gb", 100),
        ("pro-4gb", 100),
        ("pro-8gb", 200),
        ("pro-16gb", 400),
        ("pro-32gb", 500),
    ],
)
def test_connection_limits_by_plan(plan: str, limit: int) -> None:
    assert render_connection_limit(plan) == limit


def test_the_budget_sum_fails_when_a_pool_grows() -> None:
    # The same arithmetic with the settings' defaults (pool 10 + overflow 10 each) and
    # the instance counts the Blueprint allows: far above 100, which is why the
    # Blueprint sets the pools.
    defaults = {"findme-events": 3 * 20, "findme-photo-worker": 1 * 20}
    assert DEPLOY_OVERLAP * sum(defaults.values()) + RESERVED > 100
    assert sum(render_budget().values()) < sum(defaults.values())


def _compose_max_connections() -> int:
    command = compose()["services"]["postgres"]["command"]
    settings = dict(item.split("=", 1) for item in command if "=" in item)
    return int(settings["max_connections"])


def test_compose_worst_case_fits_max_connections() -> None:
    spec = compose()
    budget_spec = spec["x-connection-budget"]
    total = 0
    for container, spec_service in spec["services"].items():
        runs = COMPOSE_RUNS.get(container)
        if runs not in ("events", "worker") or container == "migrate":
            continue
        env = {**image(runs).env(), **{k: str(v) for k, v in spec_service["environment"].items()}}
        env = {k: v for k, v in env.items() if "${" not in v}
        env.setdefault(
            f"FINDME_{'WORKER' if runs == 'worker' else 'EVENTS'}_DATABASE_URL",
            "postgresql://x@y/z",
        )
        replicas = budget_spec["max_replicas"][container]
        total += replicas * _pool(settings_from(runs, env))
    assert total + budget_spec["reserved"] <= _compose_max_connections(), total
