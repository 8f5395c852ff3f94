"""Running a step's AWS calls side by side, a bounded number at a time.

Boto3 clients are thread-safe and ``integrations.aws`` builds sessions under a lock; every call is
counted into the counter it was made for, whichever thread makes it. The work given here makes AWS
calls only: the database stays with the caller's thread (Django gives every thread a connection of
its own, which each pool thread closes when its task ends, should one have been opened).

* :func:`run_all` — independent reads: run them all, wait for every one, then give the results or
  the failures (all of them).
* :func:`run_lanes` — writes in lanes: each lane's writes in order, different lanes side by side.
  Each write made is reported to the caller's thread (which logs it and checks the job still
  runs) before its lane makes the next; after a failure, or when the caller says stop, no lane
  starts another write, the writes already under way end, and every failure is reported.
"""
import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from integrations.aws import AwsError


def read_concurrency() -> int:
    return max(1, int(settings.ROLEMODEL_AWS_READ_CONCURRENCY))


def write_concurrency() -> int:
    return max(1, int(settings.ROLEMODEL_AWS_WRITE_CONCURRENCY))


def _closing_connections(task: Callable):
    def run(*args):
        try:
            return task(*args)
        finally:
            connections.close_all()  # this thread's connections only

    return run


def failure_of(errors: list[BaseException]) -> BaseException:
    """One exception for the failures of tasks that ran side by side: a bug as it is (the first one);
    one AWS failure as it is; several AWS failures as one ``AwsError`` naming them all, in order."""
    bugs = [error for error in errors if not isinstance(error, AwsError)]
    if bugs:
        return bugs[0]
    if len(errors) == 1:
        return errors[0]
    return AwsError("; ".join(str(error) for error in errors), code=errors[0].code, operation=errors[0].operation)


@dataclass(frozen=True)
class Outcome:
    """How one task ended: its result, or the exception it raised."""

    result: object = None
    error: BaseException | None = None


def run_each(tasks: dict[Hashable, Callable[[], object]], *, limit: int) -> dict[Hashable, Outcome]:
    """Run every task, at most ``limit`` at a time, and wait for all of them, whatever fails.
    Returns how each ended, by its key, in the order the tasks were given."""
    if not tasks:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(limit, len(tasks))), thread_name_prefix="aws-read") as pool:
        futures = {key: pool.submit(_closing_connections(task)) for key, task in tasks.items()}
    return {key: Outcome(error=future.exception()) if future.exception() is not None else Outcome(result=future.result())
            for key, future in futures.items()}


def run_all(tasks: dict[Hashable, Callable[[], object]], *, limit: int) -> dict:
    """As :func:`run_each`, but returns the results by key; when any task failed, raises
    :func:`failure_of` the failures once all have ended."""
    outcomes = run_each(tasks, limit=limit)
    errors = [outcome.error for outcome in outcomes.values() if outcome.error is not None]
    if errors:
        raise failure_of(errors)
    return {key: outcome.result for key, outcome in outcomes.items()}


@dataclass(frozen=True)
class Write:
    """One write of a lane: what the step log says once it is made, and the call that makes it."""

    description: str
    make: Callable[[], None]


def run_lanes(lanes: dict[Hashable, list[Write]], *, limit: int, on_written: Callable[[Write], None]) -> None:
    """Make each lane's writes in order, at most ``limit`` lanes at a time.

    ``on_written`` runs in the caller's thread after each write (for the step log and to check the
    job still runs), and the lane waits for it before its next write: when it raises, no further
    write starts, and once the writes under way have ended its exception is raised. A write that
    fails stops its lane and keeps the other lanes from starting another write; once all have
    ended, :func:`failure_of` the failures is raised.
    """
    lanes = {key: writes for key, writes in lanes.items() if writes}
    if not lanes:
        return
    stop = threading.Event()  # no lane starts another write
    gone = threading.Event()  # the caller's thread left (interrupted): nobody answers any more
    events: queue.Queue = queue.Queue()  # (write, handled) after a write; (None, error or None) when a lane ends

    def run_lane(writes: list[Write]) -> None:
        error = None
        try:
            for write in writes:
                if stop.is_set():
                    break
                write.make()
                handled = threading.Event()
                events.put((write, handled))
                # The next write of the lane waits until the caller's thread has checked the job still runs.
                while not handled.wait(timeout=1.0) and not gone.is_set():
                    pass
        except BaseException as failure:  # reported to the caller's thread, which raises it
            error = failure
            stop.set()
        finally:
            events.put((None, error))

    errors, interruption, running = [], None, len(lanes)
    with ThreadPoolExecutor(max_workers=max(1, min(limit, len(lanes))), thread_name_prefix="aws-write") as pool:
        for writes in lanes.values():
            pool.submit(_closing_connections(run_lane), writes)
        try:
            while running:
                write, detail = events.get()
                if write is None:
                    running -= 1
                    if detail is not None:
                        errors.append(detail)
                    continue
                try:
                    if interruption is None:
                        on_written(write)
                except BaseException as failure:  # noqa: BLE001 — raised below, once no lane writes any more
                    interruption = failure
                    stop.set()
                finally:
                    detail.set()
        except BaseException:
            stop.set()
            gone.set()
            raise
    if interruption is not None:
        raise interruption
    if errors:
        raise failure_of(errors)
