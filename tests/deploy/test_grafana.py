"""deploy/grafana: the dashboard and the alert rules name only metrics the services
really export, and every alert has its threshold explained in the README."""

from __future__ import annotations

import json
import re

import yaml

# Importing the modules that define them registers every metric of every service.
from findme_auth import metrics as _auth  # noqa: F401
from findme_common import metrics as _common  # noqa: F401
from findme_events import metrics as _events  # noqa: F401
from findme_gateway import metrics as _gateway  # noqa: F401
from prometheus_client import REGISTRY

from .deployfiles import ROOT

GRAFANA = ROOT / "deploy" / "grafana"
METRIC = re.compile(r"\b((?:findme|grpc_server)_[a-z_]+)")


def exported() -> set[str]:
    return set(REGISTRY._names_to_collectors)  # every sample name, _total/_bucket included


def expressions() -> list[str]:
    dashboard = json.loads((GRAFANA / "findme-dashboard.json").read_text())
    found = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    rules = yaml.safe_load((GRAFANA / "alerts.yml").read_text())
    found += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return found


def test_every_metric_in_the_dashboard_and_alerts_exists() -> None:
    names = {name for expr in expressions() for name in METRIC.findall(expr)}
    assert len(names) >= 15
    assert not names - exported(), f"unknown metrics: {sorted(names - exported())}"


def test_every_alert_is_explained_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    watch = readme.split("## What to watch", 1)[1].split("\n## ", 1)[0]
    rules = yaml.safe_load((GRAFANA / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert f"`{rule['alert']}`" in watch, rule["alert"]
