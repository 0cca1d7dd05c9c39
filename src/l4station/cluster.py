"""The Dask cluster long work runs on: a local one of single-threaded worker processes (numba one
thread each, so N workers use N cores), or an existing cluster by its scheduler's address
(``dask scheduler`` and ``dask worker`` processes, dask-jobqueue on a batch system, or the Dask
Kubernetes operator)."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from l4station.errors import InputError


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A ``distributed.Client`` on the cluster at ``scheduler`` (tcp://HOST:PORT), or on a
    LocalCluster of ``workers`` processes (default: one per core), closed on exit."""
    from distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            connected = Client(scheduler, timeout=30)
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({error}); start `dask scheduler` "
                             "there or give another --scheduler") from None
        with connected:
            yield connected
        return
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as local:
        yield local
