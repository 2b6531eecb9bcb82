"""Script validation and previews off the event loop, with a timeout.

Checking a script compiles and trial-renders every step; even bounded (``scripting.sandbox``)
that is CPU work a supervisor's request must not do on the loop that serves every agent's
websocket. The editor's routes hand it to a small thread pool and wait at most
:data:`SCRIPT_JOB_SECONDS`. Threads rather than processes: the work is already bounded in
memory and time, the job's budget (``job_budget``) makes every render inside it stop at the
timeout, so nothing keeps running after the answer, and a thread needs no pickling or
process start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiohttp import web

from scripting.sandbox import job_budget

#: Seconds a validation or preview may take before it is refused.
SCRIPT_JOB_SECONDS = 5.0
#: Concurrent jobs: a few supervisors editing at once; more wait their turn in the pool's queue.
SCRIPT_WORKERS = 2

T = TypeVar("T")


class ScriptJobTimeout(Exception):
    """A job that ran out of time; ``step`` is the step it was on, when known."""

    def __init__(self, step: str | None, line: int | None, seconds: float) -> None:
        self.step = step
        self.line = line
        self.seconds = seconds
        where = f"o passo {step}" if step else "o roteiro"
        super().__init__(f"{where} demorou demais para ser processado (limite de {seconds:g} s)")


class ScriptWorker:
    """Runs script jobs in worker threads; :meth:`run` gives up after ``timeout`` seconds."""

    def __init__(self, timeout: float = SCRIPT_JOB_SECONDS, workers: int = SCRIPT_WORKERS) -> None:
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cobra-script")

    async def run(self, job: Callable[[Callable[[str, int], None]], T]) -> T:
        """``job(on_step)`` in a thread; ``on_step(step_id, line)`` records where it is, to name it on timeout."""
        steps: list[tuple[str, int]] = []

        def bounded() -> T:
            # every render inside stops at the timeout too, so the thread is free right after it
            with job_budget(self.timeout):
                return job(lambda step, line: steps.append((step, line)))

        future = asyncio.get_running_loop().run_in_executor(self._pool, bounded)
        try:
            # a little grace over the job's own budget: a job that honours it answers with its issues
            return await asyncio.wait_for(future, self.timeout + 1.0)
        except TimeoutError:
            step, line = steps[-1] if steps else (None, None)
            raise ScriptJobTimeout(step, line, self.timeout) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


SCRIPT_WORKER: web.AppKey[ScriptWorker] = web.AppKey("cobra.script_worker", ScriptWorker)


def setup_script_worker(app: web.Application, worker: ScriptWorker | None = None) -> None:
    """Gives ``app`` its script worker (closed with the app)."""
    app[SCRIPT_WORKER] = worker or ScriptWorker()

    async def close(app: web.Application) -> None:
        app[SCRIPT_WORKER].close()

    app.on_cleanup.append(close)


__all__ = ["SCRIPT_JOB_SECONDS", "SCRIPT_WORKER", "ScriptJobTimeout", "ScriptWorker", "setup_script_worker"]
