"""Keeps a running ``Stack`` running, as a process manager would: a part that dies
(a service, the embedded PostgreSQL or Redis) is restarted after a back-off that
doubles with each quick death (0.5 s, 1 s, 2 s ... up to 30 s) and starts over once
the part has stayed up for a minute. Every death and restart is logged with its
count. The other parts keep serving meanwhile; the gateway's /health reports the
missing one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from findme_devstack.stack import Stack

log = logging.getLogger("findme.devstack")


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    # A part up this long is healthy again: its next death waits ``first`` again.
    reset_after: float = 60.0


@dataclass
class _Part:
    up_since: float
    delay: float
    restarts: int = 0
    due: float | None = None


@dataclass
class Supervisor:
    stack: Stack
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    _parts: dict[str, _Part] = field(default_factory=dict)

    def restarts(self, part: str) -> int:
        state = self._parts.get(part)
        return state.restarts if state else 0

    def check(self) -> None:
        """Look at every part once; restart those whose back-off has run out."""
        for name in self.stack.parts():
            now = self.clock()
            state = self._parts.setdefault(name, _Part(up_since=now, delay=self.backoff.first))
            if state.due is None and self.stack.alive(name):
                if now - state.up_since >= self.backoff.reset_after:
                    state.delay = self.backoff.first
                continue
            if state.due is None:
                state.due = now + state.delay
                log.warning(
                    "%s stopped unexpectedly (exit code %s); restart #%d in %.1f s",
                    name,
                    self.stack.exit_code(name),
                    state.restarts + 1,
                    state.delay,
                )
                continue
            if now < state.due:
                continue
            state.restarts += 1
            state.delay = min(state.delay * self.backoff.factor, self.backoff.cap)
            try:
                self.stack.restart(name)
            except Exception as exc:  # whatever went wrong, try again later
                state.due = self.clock() + state.delay
                log.warning(
                    "%s restart #%d failed (%s); next try in %.1f s",
                    name,
                    state.restarts,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    state.delay,
                )
                continue
            state.due = None
            state.up_since = self.clock()
            log.warning("%s restarted (restart #%d)", name, state.restarts)
