"""A memory budget for one task: a file's preview must not take the worker down with it."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager


def address_space() -> int:
    """The process's virtual memory now, in bytes (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_limit(budget: int | None) -> Iterator[None]:
    """At most ``budget`` more bytes of address space while the block runs: past it, an
    allocation raises MemoryError (which the domain turns into a refusal) instead of the
    process growing until the system kills it. RLIMIT_AS is per process: meant for the
    prefork pool, where a child runs one task at a time. 0 or None: no limit; where the
    limit cannot be set (not Linux), the block runs without it."""
    if not budget:
        yield
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = address_space() + budget
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
