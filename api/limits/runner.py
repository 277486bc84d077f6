"""GraphQL executions off the server's event loop, a few at a time, each within a deadline.

Executing a query resolves fields on an event loop; SQL already runs in worker threads, but
building a large answer is CPU work on the loop itself. So executions run on their own loops
in a few worker threads: while one builds a big answer, the server's loop goes on answering
``/healthz`` and small queries. At most ``concurrency`` run at once and up to ``queue`` more
wait their turn; beyond that a client gets 503 with ``Retry-After`` at once, which beats a
pile-up where everyone waits twenty seconds. Each execution has a wall-clock budget; past it
the execution is cancelled and the client told.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from api.refusal import Refusal

__all__ = ["QueryRunner", "QueryTimeout"]

T = TypeVar("T")
RETRY_AFTER_S = 1


class QueryTimeout(Exception):
    """An execution ran past its budget and was cancelled."""


class QueryRunner:
    def __init__(self, *, concurrency: int, queue: int, timeout_s: float) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._threads: list[threading.Thread] = []
        self._busy: list[int] = []
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.waiting = 0

    async def run(self, execute: Callable[[], Awaitable[T]]) -> T:
        """``execute()`` on a worker loop, once a slot is free; :class:`Refusal` (503) when
        too many wait, :class:`QueryTimeout` past the budget."""
        async with self._slot():
            index = self._pick()
            future = asyncio.run_coroutine_threadsafe(_call(execute), self._loops[index])
            try:
                # Cancelling the wrapper (deadline, client gone) cancels the execution too.
                return await self._within(asyncio.wrap_future(future))
            finally:
                self._busy[index] -= 1

    async def run_sync(self, call: Callable[[], T]) -> T:
        """``call()`` in a worker thread, under the same slots, queue and budget as
        :meth:`run`: for work that is synchronous from start to end (one trip, no loop)."""
        async with self._slot():
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency, "tempox-answer")
                pool = self._pool
            return await self._within(asyncio.get_running_loop().run_in_executor(pool, call))

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        slots = self._semaphore()
        if slots.locked() and self.waiting >= self.queue:
            raise Refusal(
                503,
                "SERVER_BUSY",
                f"the server is busy: {self.concurrency} queries are running and "
                f"{self.waiting} waiting; retry in {RETRY_AFTER_S} s",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self.waiting += 1
        try:
            await slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            slots.release()

    async def _within(self, future: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(future, self.timeout_s)
        except TimeoutError:
            raise QueryTimeout(
                f"the query ran longer than {self.timeout_s:g} s and was stopped "
                "(ask for less: smaller pages, fewer nested lists, a smaller depth)"
            ) from None

    def close(self) -> None:
        with self._lock:
            loops, threads = self._loops, self._threads
            self._loops, self._threads, self._busy = [], [], []
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
        for loop in loops:
            loop.call_soon_threadsafe(loop.stop)
        for thread in threads:
            thread.join(5)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = asyncio.Semaphore(self.concurrency), loop
        return self._slots

    def _pick(self) -> int:
        with self._lock:
            if not self._loops:
                for n in range(self.concurrency):
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(
                        target=loop.run_forever, name=f"tempox-query-{n}", daemon=True
                    )
                    thread.start()
                    self._loops.append(loop)
                    self._threads.append(thread)
                    self._busy.append(0)
            index = min(range(len(self._loops)), key=self._busy.__getitem__)
            self._busy[index] += 1
            return index


async def _call(execute: Callable[[], Awaitable[T]]) -> T:
    return await execute()
