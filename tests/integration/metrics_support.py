"""Reading the services' metrics in tests: one scrape as {(name, labels): value}."""

from __future__ import annotations

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
