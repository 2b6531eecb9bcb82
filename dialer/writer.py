"""The dialer's database writer: one unit of work at a time, in the order queued, never dropped.

An awaited job (:meth:`DbWriter.run`) runs in its own short transaction, committed after it
returns. Fire-and-forget jobs (:meth:`DbWriter.later`: a call answered, connected, ended, an
agent's state change) that are queued back to back share one transaction, up to
``MAX_BATCH``: at 50 connects per second each call brings half a dozen of them, and a
transaction per job spent more of the loop on session set-up and commits than on the
statements (issue 10). If a batch fails for another reason than a busy database, it is rolled
back and its jobs are run again one transaction each, so one bad job never loses the others.

A job that fails because the database is busy (SQLite's "database is locked", a PostgreSQL
serialization or deadlock failure) is run again, from scratch in a new transaction, with
backoff until ``retry_for_s`` has passed; other failures are the caller's (an awaited job
raises them, a fire-and-forget one is logged). The writer task is owned by whoever calls
:meth:`DbWriter.start` and :meth:`DbWriter.stop`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.services import DialerUnavailable
from storage.engine import is_busy_error

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[AsyncSession], Awaitable[Any]]
# (job, its caller's future or None when fire-and-forget, how long a busy database is retried: None = for ever)
Queued = tuple[Job, "asyncio.Future[Any] | None", "float | None"]
MAX_BATCH = 64  # fire-and-forget jobs committed together at most

class DbWriter:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, job_timeout_s: float = 10.0, retry_for_s: float = 60.0
    ) -> None:
        self._db = sessions
        self._queue: asyncio.Queue[Queued] = asyncio.Queue()
        self._next: Queued | None = None  # an awaited job taken while gathering a batch: it runs next
        self._task: asyncio.Task[None] | None = None
        self.job_timeout_s = job_timeout_s
        self.retry_for_s = retry_for_s
        self.retries = 0  # jobs run again after a busy database (for tests and metrics)
        self.batches = 0  # transactions that carried more than one fire-and-forget job

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dialer-writer")

    async def stop(self, timeout: float) -> None:
        """Finish what is queued (bounded by ``timeout``), then end the task."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.error("dialer: %d database write(s) not done within %g s at stop", self._queue.qsize(), timeout)
        self._task.cancel()
        await asyncio.wait([self._task], timeout=timeout)
        self._task = None

    async def run(self, job: Callable[[AsyncSession], Awaitable[T]], *, durable: bool = False) -> T:
        """Run ``job`` in the writer's order and return what it returned.

        ``durable``: a busy database is waited out for as long as it takes (as for a
        fire-and-forget job), not given up after ``retry_for_s``: for a write whose caller has
        already acted on it (an agent freed before the disposition is committed)."""
        if self._task is None:
            raise DialerUnavailable("O discador não está em funcionamento.")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, fut, None if durable else self.retry_for_s))
        return await fut

    def later(self, job: Job) -> None:
        """Queue ``job``; its failure is logged, never raised."""
        self._queue.put_nowait((job, None, None))

    async def _run(self) -> None:
        while True:
            if self._next is not None:
                job, fut, retry_for_s = self._next
                self._next = None
            else:
                job, fut, retry_for_s = await self._queue.get()
            if fut is None and not self._queue.empty():
                await self._run_batch(self._gather(job))
                continue
            try:
                # an awaited job fails its caller after ``retry_for_s``; a queued one is never dropped
                result = await self._attempt(job, retry_for_s)
                if fut is not None and not fut.done():
                    fut.set_result(result)
            except asyncio.CancelledError:
                if fut is not None and not fut.done():
                    fut.cancel()
                raise
            except Exception as exc:
                if fut is not None and not fut.done():
                    fut.set_exception(exc)
                else:
                    log.exception("dialer: database write failed")
            finally:
                self._queue.task_done()

    def _gather(self, first: Job) -> list[Job]:
        """``first`` and the fire-and-forget jobs queued right behind it (an awaited one ends the batch)."""
        jobs = [first]
        while len(jobs) < MAX_BATCH and not self._queue.empty():
            job, fut, retry_for_s = self._queue.get_nowait()
            if fut is not None:
                self._next = (job, fut, retry_for_s)
                break
            jobs.append(job)
        return jobs

    async def _run_batch(self, jobs: list[Job]) -> None:
        """Run ``jobs`` in one transaction (busy: again, never dropped); another failure: one by one."""

        async def all_of(db: AsyncSession) -> None:
            for job in jobs:
                await job(db)

        try:
            await self._attempt(all_of, None, timeout_s=self.job_timeout_s * len(jobs))
            self.batches += 1
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001  (each job is run again alone; its own failure is logged there)
            log.warning("dialer: a batch of %d database writes failed; writing them one by one", len(jobs))
            for job in jobs:
                try:
                    await self._attempt(job, None)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dialer: database write failed")
        finally:
            for _ in jobs:
                self._queue.task_done()

    async def _attempt(self, job: Job, retry_for_s: float | None, *, timeout_s: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + retry_for_s if retry_for_s is not None else float("inf")
        delay = 0.05
        while True:
            try:
                async with self._db() as s:
                    # asyncio.timeout, not wait_for: no extra task (and loop turn) per job
                    async with asyncio.timeout(timeout_s or self.job_timeout_s):
                        result = await job(s)
                    await s.commit()
                return result
            except Exception as exc:
                if not is_busy_error(exc) or loop.time() + delay > deadline:
                    raise
                self.retries += 1
                log.warning("dialer: database busy (%s); writing again in %.2f s", exc.__class__.__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
