"""The supervisor over real processes (``sleep``) on a clock of the test's own."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from findme_devstack.supervisor import Backoff, Supervisor


@dataclass
class Parts:
    """The four things the supervisor asks of a stack, over ``sleep`` processes."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    refuse_restarts: int = 0

    def start(self, name: str) -> None:
        self.processes[name] = subprocess.Popen(["sleep", "600"])

    def parts(self) -> list[str]:
        return list(self.processes)

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def exit_code(self, name: str) -> int | None:
        return self.processes[name].returncode

    def restart(self, name: str) -> None:
        if self.refuse_restarts:
            self.refuse_restarts -= 1
            raise RuntimeError("port taken")
        self.start(name)

    def kill(self, name: str) -> None:
        self.processes[name].kill()
        self.processes[name].wait()


@pytest.fixture
def parts() -> Iterator[Parts]:
    made = Parts()
    made.start("selfie")
    made.start("auth")
    yield made
    for process in made.processes.values():
        process.kill()
        process.wait()


def supervisor(parts: Parts, now: list[float]) -> Supervisor:
    return Supervisor(parts, Backoff(first=0.5, factor=2, cap=4, reset_after=60), lambda: now[0])  # type: ignore[arg-type]


def test_a_dead_part_is_restarted_after_its_back_off_and_the_others_are_left_alone(
    parts: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    now = [100.0]
    watch = supervisor(parts, now)
    watch.check()
    auth = parts.processes["auth"]
    parts.kill("selfie")

    with caplog.at_level(logging.WARNING, logger="findme.devstack"):
        watch.check()  # noticed: restart due in 0.5 s
        assert not parts.alive("selfie")
        now[0] += 0.5
        watch.check()
    assert parts.alive("selfie")
    assert watch.restarts("selfie") == 1
    assert parts.processes["auth"] is auth  # untouched
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "selfie stopped unexpectedly (exit code -9); restart #1 in 0.5 s",
        "selfie restarted (restart #1)",
    ]


def test_quick_deaths_double_the_wait_up_to_the_cap_and_a_long_run_resets_it(
    parts: Parts,
) -> None:
    now = [0.0]
    watch = supervisor(parts, now)
    waits = []
    for _ in range(5):
        parts.kill("selfie")
        watch.check()
        due = watch._parts["selfie"].due
        assert due is not None
        waits.append(due - now[0])
        now[0] = due
        watch.check()
        assert parts.alive("selfie")
    assert waits == [0.5, 1, 2, 4, 4]
    assert watch.restarts("selfie") == 5

    now[0] += 60
    watch.check()  # up a minute: healthy again
    parts.kill("selfie")
    watch.check()
    assert watch._parts["selfie"].due == now[0] + 0.5


def test_a_failed_restart_is_tried_again_later(parts: Parts) -> None:
    now = [0.0]
    watch = supervisor(parts, now)
    parts.refuse_restarts = 1
    parts.kill("auth")
    watch.check()
    now[0] += 0.5
    watch.check()  # the restart fails: next try after the doubled wait
    assert not parts.alive("auth")
    now[0] += 1
    watch.check()
    assert parts.alive("auth")
    assert watch.restarts("auth") == 2
