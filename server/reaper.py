"""The background pass that keeps jobs moving: expired leases back, ready jobs out.

A daemon thread with its own sessions, every `settings.reaper_seconds`. It is also the retry
for a broker that was down when a job became ready.
"""

from __future__ import annotations

import logging
import threading

from server.db.types import utcnow
from server.runtime import Runtime
from server.services.scheduling import dispatch_ready, reap_expired_leases, resend_queued

log = logging.getLogger(__name__)


def reaper_pass(runtime: Runtime) -> None:
    """One pass: reap expired leases, then dispatch whatever is ready."""
    with runtime.sessions() as session:
        reap_expired_leases(session=session, now=utcnow())
    with runtime.sessions() as session:
        dispatch_ready(session=session, dispatcher=runtime.dispatcher)


def startup_pass(runtime: Runtime) -> None:
    """At startup also resend queued jobs: the previous process may have died before sending."""
    with runtime.sessions() as session:
        resend_queued(session=session, dispatcher=runtime.dispatcher)
    reaper_pass(runtime)


class Reaper:
    """Runs `reaper_pass` every `interval` seconds until stopped; a failing pass is logged."""

    def __init__(self, runtime: Runtime, interval: float) -> None:
        self._runtime = runtime
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lmclab-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                reaper_pass(self._runtime)
            except Exception:
                log.exception("reaper pass failed; retrying in %.1f s", self._interval)
