"""Operations in tests: the services' metrics, one scrape as {(name, labels): value},
and findme-admin run against a stack."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from findme_devstack.stack import Stack
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    text = httpx.get(url, timeout=10).raise_for_status().text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape_all(stack: Stack) -> dict[str, Samples]:
    found = {service: scrape(stack.metrics_url(service)) for service in ("auth", "events")}
    found.update({service: scrape(stack.metrics_url(service)) for service in ("selfie", "worker")})
    found["gateway"] = scrape(f"{stack.url}/metrics")
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample, 0 when absent; labels not given are summed over."""
    return sum(
        found
        for (sample, sample_labels), found in samples.items()
        if sample == name and set(labels.items()) <= sample_labels
    )


def run_admin(
    stack: Stack, *args: str, stdin: str = "", local: bool = False
) -> subprocess.CompletedProcess[str]:
    """``findme-admin ARGS`` with the stack's addresses in DATABASE_URL / REDIS_URL, or
    (``local``) with only its data folder, as beside ``make run``."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "FINDME_EVENTS_DATABASE_URL"):
        env.pop(name, None)
    if local:
        env["FINDME_DATA_DIR"] = str(stack.config.data_dir)
    else:
        env.update(DATABASE_URL=stack.database_url, REDIS_URL=stack.redis_url)
        env["FINDME_DATA_DIR"] = "/nonexistent"
    return subprocess.run(
        [sys.executable, "-m", "findme_admin", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
