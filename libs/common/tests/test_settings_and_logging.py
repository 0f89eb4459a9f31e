from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from findme_common.logging import JsonFormatter, request_id_var
from findme_common.settings import (
    ServiceSettings,
    cgroup_cpu_limit,
    dns_target,
    fill_targets,
    load_settings,
    usable_cpus,
)
from pydantic import model_validator
from pydantic_settings import SettingsConfigDict


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_DEMO_", frozen=True)
    secret: str


def test_settings_read_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINDME_DEMO_SECRET", "s3")
    monkeypatch.setenv("FINDME_DEMO_PORT", "6001")
    settings = load_settings(DemoSettings)
    assert (settings.secret, settings.bind_address) == ("s3", "127.0.0.1:6001")


def test_missing_required_setting_exits_with_its_env_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FINDME_DEMO_SECRET", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_settings(DemoSettings)
    assert exit_info.value.code == 2
    assert "FINDME_DEMO_SECRET" in capsys.readouterr().err


def test_json_log_line_has_service_request_id_and_extras() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.attempt = 3
    token = request_id_var.set("abc")
    try:
        line = json.loads(JsonFormatter("auth").format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello you"
    assert line["level"] == "warning"
    assert line["service"] == "auth"
    assert line["request_id"] == "abc"
    assert line["attempt"] == 3


# --- CPUs a container may use -------------------------------------------------------


def _affinity() -> int:
    return len(os.sched_getaffinity(0))


def _cgroup_v2(root: Path, cpu_max: str) -> Path:
    (root / "cpu.max").write_text(cpu_max + "\n")
    return root


def _cgroup_v1(root: Path, quota: str, period: str = "100000") -> Path:
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(period + "\n")
    return root


def test_a_cpu_quota_caps_the_worker_count(tmp_path: Path) -> None:
    # docker run --cpus 1 (or a 1-CPU Render instance) on this host: one worker, however
    # many cores the host has.
    assert usable_cpus(_cgroup_v2(tmp_path, "100000 100000")) == 1
    assert cgroup_cpu_limit(tmp_path) == 1


@pytest.mark.parametrize(
    ("cpu_max", "limit"),
    [("150000 100000", 2), ("50000 100000", 1), ("400000 100000", 4), ("200000 50000", 4)],
)
def test_fractional_quotas_round_up(tmp_path: Path, cpu_max: str, limit: int) -> None:
    assert cgroup_cpu_limit(_cgroup_v2(tmp_path, cpu_max)) == limit


def test_a_quota_above_the_affinity_set_leaves_the_affinity(tmp_path: Path) -> None:
    assert usable_cpus(_cgroup_v2(tmp_path, f"{(_affinity() + 6) * 100000} 100000")) == _affinity()


@pytest.mark.parametrize("cpu_max", ["max 100000", "", "garbage", "0 100000"])
def test_no_quota_means_the_affinity_set(tmp_path: Path, cpu_max: str) -> None:
    assert cgroup_cpu_limit(_cgroup_v2(tmp_path, cpu_max)) is None
    assert usable_cpus(tmp_path) == _affinity()


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(_cgroup_v1(tmp_path, "100000")) == 1
    assert usable_cpus(tmp_path) == 1


def test_cgroup_v1_without_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(_cgroup_v1(tmp_path, "-1")) is None
    assert usable_cpus(tmp_path) == _affinity()


def test_no_cgroup_files_means_the_affinity_set(tmp_path: Path) -> None:
    assert usable_cpus(tmp_path / "missing") == _affinity()


# --- gRPC targets from a host name and a port ------------------------------------------


class BackendSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINDME_DEMO_", frozen=True)
    store_host: str = "127.0.0.1"
    store_port: int = 50070
    store_target: str = ""

    @model_validator(mode="before")
    @classmethod
    def _targets(cls, data: Any) -> Any:
        return fill_targets(cls, data, ("store",))


def test_target_is_built_from_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    assert BackendSettings().store_target == "dns:///127.0.0.1:50070"
    monkeypatch.setenv("FINDME_DEMO_STORE_HOST", "findme-store-discovery")
    monkeypatch.setenv("FINDME_DEMO_STORE_PORT", "50071")
    assert BackendSettings().store_target == "dns:///findme-store-discovery:50071"


def test_an_explicit_target_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINDME_DEMO_STORE_HOST", "ignored")
    monkeypatch.setenv("FINDME_DEMO_STORE_TARGET", "ipv4:10.0.0.1:1,10.0.0.2:1")
    assert BackendSettings().store_target == "ipv4:10.0.0.1:1,10.0.0.2:1"


def test_ipv6_hosts_are_bracketed() -> None:
    assert dns_target("fd00::5", 50051) == "dns:///[fd00::5]:50051"
