"""What /admin/performance draws: every service's metrics, scraped over the private
network (each instance of a scaled service: every address its host name resolves
to), added up per service and boiled down to one snapshot of cumulative figures.
The page turns two snapshots into rates, percentiles and ratios.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from findme_common.metrics import exposition
from prometheus_client.parser import text_string_to_metric_families

from findme_gateway.config import GatewaySettings

log = logging.getLogger(__name__)

Labels = tuple[tuple[str, str], ...]
Samples = dict[str, dict[Labels, float]]

# Values every instance reports for the whole system, not for itself: the largest
# (or, for "is it up", the smallest) instance's value, never their sum.
_MAX_ACROSS_INSTANCES = frozenset(
    {"findme_photo_queue_photos", "findme_photo_queue_oldest_pending_seconds"}
)
_MIN_ACROSS_INSTANCES = frozenset({"findme_redis_up", "findme_component_up"})


def _fetch(url: str, timeout: float) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        body: bytes = reply.read()
    return body.decode()


def _instance_urls(url: str) -> list[str]:
    """``url`` once per address its host resolves to (each instance behind a name)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return [url]
    addresses = sorted({str(info[4][0]) for info in infos})
    return [
        urlunsplit(parts._replace(netloc=f"[{a}]:{port}" if ":" in a else f"{a}:{port}"))
        for a in addresses
    ]


def _scrape(url: str, timeout: float) -> list[str]:
    texts = []
    for instance in _instance_urls(url):
        try:
            texts.append(_fetch(instance, timeout))
        except OSError as exc:
            log.debug("metrics not scraped", extra={"url": instance, "error": repr(exc)})
    return texts


def merge(texts: Iterable[str]) -> Samples:
    """Samples of several instances' expositions, added up (or max/min, see above)."""
    merged: Samples = defaultdict(dict)
    for text in texts:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
                series = merged[sample.name]
                old = series.get(labels)
                if old is None:
                    series[labels] = sample.value
                elif sample.name in _MAX_ACROSS_INSTANCES:
                    series[labels] = max(old, sample.value)
                elif sample.name in _MIN_ACROSS_INSTANCES:
                    series[labels] = min(old, sample.value)
                else:
                    series[labels] = old + sample.value
    return merged


def _sum(samples: Samples, name: str, **match: str) -> float:
    return sum(
        value
        for labels, value in samples.get(name, {}).items()
        if all(dict(labels).get(k) == v for k, v in match.items())
    )


def _by(samples: Samples, name: str, key: str) -> dict[str, float]:
    grouped: dict[str, float] = defaultdict(float)
    for labels, value in samples.get(name, {}).items():
        grouped[dict(labels).get(key, "")] += value
    return dict(grouped)


def _routes(gateway: Samples) -> dict[str, Any]:
    routes: dict[str, Any] = {}
    for labels, value in gateway.get("findme_http_requests_total", {}).items():
        label = dict(labels)
        route = label["route"]
        if not route.startswith("/api/"):
            continue
        entry = routes.setdefault(route, {"count": 0.0, "errors": 0.0, "refused": 0.0})
        entry["count"] += value
        status = label["status"]
        if status.startswith("5") and status != "503":
            entry["errors"] += value
        if status in ("429", "503"):
            entry["refused"] += value
    for labels, value in gateway.get("findme_http_request_seconds_bucket", {}).items():
        label = dict(labels)
        if label["route"] in routes:
            buckets = routes[label["route"]].setdefault("buckets", {})
            buckets[label["le"]] = buckets.get(label["le"], 0.0) + value
    return routes


def _pools(samples: Mapping[str, Samples]) -> dict[str, dict[str, float]]:
    pools: dict[str, dict[str, float]] = {}
    for service in ("auth", "selfie"):
        found = samples[service]
        for pool in _by(found, "findme_pool_workers", "pool"):
            pools[pool] = {
                "workers": _sum(found, "findme_pool_workers", pool=pool),
                "busy": _sum(found, "findme_pool_busy_workers", pool=pool),
                "queued": _sum(found, "findme_pool_queued_jobs", pool=pool),
                "refusals": _sum(found, "findme_pool_refusals_total", pool=pool),
            }
    return pools


def summarize(samples: Mapping[str, Samples], instances: Mapping[str, int]) -> dict[str, Any]:
    """The snapshot the page draws from (cumulative counters, current gauges)."""
    events, worker = samples["events"], samples["worker"]
    lookups = _by(events, "findme_event_cache_lookups_total", "result")
    statements = {
        name: {
            "count": _sum(events, "findme_db_statement_seconds_count", statement=name)
            + _sum(worker, "findme_db_statement_seconds_count", statement=name),
            "sum": _sum(events, "findme_db_statement_seconds_sum", statement=name)
            + _sum(worker, "findme_db_statement_seconds_sum", statement=name),
        }
        for name in {
            *_by(events, "findme_db_statement_seconds_count", "statement"),
            *_by(worker, "findme_db_statement_seconds_count", "statement"),
        }
    }
    database = {
        state: _sum(events, "findme_db_pool_connections", state=state)
        for state in ("size", "in_use", "overflow")
    }
    outcomes = _by(worker, "findme_photos_processed_total", "outcome")
    return {
        "time": time.time(),
        "instances": dict(instances),
        "routes": _routes(samples["gateway"]),
        "cache": {"hit": lookups.get("hit", 0.0), "load": lookups.get("load", 0.0)},
        "pools": _pools(samples),
        "database": database,
        "photos": {
            "pending": _sum(worker, "findme_photo_queue_photos", status="pending"),
            "processing": _sum(worker, "findme_photo_queue_photos", status="processing"),
            "oldest_pending_seconds": _sum(worker, "findme_photo_queue_oldest_pending_seconds"),
            "done": outcomes.get("done", 0.0),
            "failed": outcomes.get("failed", 0.0),
        },
        "statements": statements,
    }


async def snapshot(settings: GatewaySettings) -> dict[str, Any]:
    urls = {
        "auth": settings.auth_metrics_url,
        "events": settings.events_metrics_url,
        "selfie": settings.selfie_metrics_url,
        "worker": settings.worker_metrics_url,
    }
    timeout = settings.health_deadline
    scraped = await asyncio.gather(
        *(asyncio.to_thread(_scrape, url, timeout) for url in urls.values())
    )
    texts = dict(zip(urls, scraped, strict=True))
    texts["gateway"] = [(await asyncio.to_thread(exposition)).decode()]
    samples = {name: merge(found) for name, found in texts.items()}
    return summarize(samples, {name: len(found) for name, found in texts.items()})
