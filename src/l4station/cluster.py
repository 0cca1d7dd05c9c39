"""The Dask cluster long work runs on: a local one of single-threaded worker processes (numba one
thread each, so N workers use N cores), or an existing cluster by its scheduler's address
(``dask scheduler`` and ``dask worker`` processes, dask-jobqueue on a batch system, or the Dask
Kubernetes operator)."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

from l4station.cache import code_digest
from l4station.errors import InputError, first_line

WORKER_WAIT_S = 60.0
CONNECT_TIMEOUT_S = 10.0
"""distributed's connect timeout (s): it retries a refused address until then (a scheduler
answers in well under a second, even across a continent)."""
CONNECT_WAIT_S = 20.0
"""Longest wait (s) for a scheduler's handshake, which distributed's timeout does not always cover."""


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A ``distributed.Client`` on the cluster at ``scheduler`` (tcp://HOST:PORT), or on a
    LocalCluster of ``workers`` processes (default: one per core), closed on exit."""
    from distributed import Client, LocalCluster
    if scheduler is not None and workers is not None:
        raise InputError("give --scheduler (an existing cluster) or --workers (a local one), not both")
    if scheduler is not None:
        try:
            connected = _connect(scheduler)
        except Exception as error:       # refused, unreachable, or not Dask answering (garbage frames: MemoryError)
            reason = first_line(error, 120)
            if isinstance(error, MemoryError):
                reason = "what answers there is not a Dask scheduler"
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({reason}); start `dask scheduler` "
                             "there and give its tcp://HOST:PORT") from None
        with connected:
            try:
                connected.wait_for_workers(1, timeout=WORKER_WAIT_S)
            except TimeoutError:
                raise InputError(f"the Dask scheduler at {scheduler} has no worker after {WORKER_WAIT_S:g} s; "
                                 f"start `dask worker {scheduler}` on the machines that should run it") from None
            yield connected
        return
    # silence_logs: the workers' warnings as they stop (tasks cancelled, a closed stream) are not
    # for people; what fails in a task comes back with its result
    try:
        with _workers_deaf_to_ctrl_c():
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                   dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"},
                                   silence_logs=logging.CRITICAL, preload=[__name__])
    except Exception as error:           # a worker killed while it starts: "Nanny failed to start"
        raise InputError(f"the local Dask cluster did not start ({first_line(error, 160)}); run the command again") \
            from None
    with cluster, Client(cluster) as local:
        yield local


def dask_setup(worker) -> None:
    """Run by each local worker as it starts, a restarted one too (Dask's preload of this module):
    it ignores Ctrl-C, which a terminal sends to every process of the command; the command stops
    its workers in order."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _workers_deaf_to_ctrl_c() -> Iterator[None]:
    """Threads and processes started inside hold SIGINT blocked (a mask passes to new threads and
    through fork and exec): the cluster's event-loop thread, and so every worker it starts or
    restarts later, never sees Ctrl-C, which a terminal sends to every process of the command.
    This process stops them in order instead of each printing its own KeyboardInterrupt
    traceback; a Ctrl-C while they start waits, pending, and is raised here after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _connect(scheduler: str):
    """``Client(scheduler)``, given up after CONNECT_WAIT_S: a server that is not Dask can keep
    distributed's handshake waiting for ever (its timeout does not cover it). The attempt left
    behind is a daemon thread, which does not keep the process alive."""
    from distributed import Client
    outcome = {}

    def attempt():
        try:
            outcome["client"] = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except BaseException as error:   # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_WAIT_S)
    if thread.is_alive():
        raise TimeoutError(f"no Dask handshake in {CONNECT_WAIT_S:g} s: nothing there answers as a Dask scheduler does")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["client"]


def check_code(client) -> None:
    """Refuse a cluster whose workers run other l4station code than this process."""
    here = code_digest()
    try:
        answers = client.run(code_digest)
    except Exception as error:           # a worker lost as it answers (CommClosedError)
        raise InputError(f"a Dask worker was lost while its code was checked ({first_line(error, 160)}); run the "
                         "command again") from None
    other = sorted(address for address, digest in answers.items() if digest != here)
    if other:
        raise InputError(f"Dask worker {other[0]} runs different l4station code from this one; install the same "
                         "l4station on every worker")
