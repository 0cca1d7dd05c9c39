"""Jobs the server runs on a schedule beside serving: feeds and the forecaster.

Each job runs in a worker thread every ``every_s`` seconds (asyncio tasks in the server's event
loop: the server keeps answering while a job works). A job that fails is logged with its one-line
reason and tried again at its next time; it never stops the server or the other jobs. The
latest outcome of each job is kept for ``/api/status``.

>>> Job("feed:rtsw", 60.0, lambda: None).status()
{'every_s': 60.0, 'runs': 0, 'failures': 0, 'last_run': None, 'last_ok': None, 'message': None}
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from l4station.errors import first_line

log = logging.getLogger("l4station.schedule")


@dataclass
class Job:
    """A named piece of work repeated every ``every_s`` seconds, with its record."""

    name: str
    every_s: float
    work: Callable[[], object]
    runs: int = 0
    failures: int = 0
    last_run: float | None = None
    last_ok: bool | None = None
    message: str | None = field(default=None)

    def status(self) -> dict:
        return {"every_s": self.every_s, "runs": self.runs, "failures": self.failures,
                "last_run": None if self.last_run is None else time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                               time.gmtime(self.last_run)),
                "last_ok": self.last_ok, "message": self.message}

    def run_once(self) -> None:
        """Run the work now, recording the outcome; an exception is recorded, logged and swallowed."""
        self.last_run = time.time()
        self.runs += 1
        try:
            outcome = self.work()
        except Exception as error:          # noqa: BLE001 - a failing job must not stop the server
            self.failures += 1
            self.last_ok = False
            self.message = first_line(error)
            log.warning("%s failed: %s (next try in %g s)", self.name, self.message, self.every_s)
            return
        self.last_ok = True
        self.message = None if outcome is None else str(outcome)
        log.info("%s: %s", self.name, self.message)

    async def forever(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.to_thread(self.run_once)
            await asyncio.sleep(max(0.0, self.every_s - (time.monotonic() - began)))


def operations_jobs(url: str, sources: list, *, feed_every_s: float, forecast_every_s: float | None) -> list[Job]:
    """A job per feed source, and the forecaster (issuing from what has arrived) if asked."""
    from l4station.ground import feeds, forecaster
    from l4station.ground.store import Archive

    def feed(source):
        def work():
            with Archive(url) as archive:
                return feeds.run(archive, source)
        return work

    received = forecaster.Received()

    def forecast():
        with Archive(url) as archive:
            run = forecaster.issue(archive, int(time.time() * 1e6), received=received)
        return f"run {run.run_id}" + (" (inputs unchanged)" if run.repeated else "")

    jobs = [Job(f"feed:{source.name}", feed_every_s, feed(source)) for source in sources]
    if forecast_every_s is not None:
        jobs.append(Job("forecast", forecast_every_s, forecast))
    return jobs
