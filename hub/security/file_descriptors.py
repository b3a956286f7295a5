"""The process's file-descriptor budget: raised to the hard limit at start, and the doors' connection caps kept
inside it, so a full door still leaves descriptors for the database, the broker and the other door."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

#: descriptors kept for everything but the doors' client connections (database pool, broker, files, threads)
RESERVED = 256


def raise_soft_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to its hard limit (the usual 1,024 is too few); the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if soft == resource.RLIM_INFINITY or (wanted != resource.RLIM_INFINITY and soft >= wanted):
        return soft if soft != resource.RLIM_INFINITY else 1_048_576
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        log.warning("could not raise the open-file limit above %d", soft, extra={"event": "fd.limit_unchanged"})
        return soft
    return wanted


def fit_caps(limit: int, *caps: int) -> tuple[int, ...]:
    """The doors' total connection caps, scaled down together when they would not fit in ``limit`` descriptors."""
    room = max(len(caps), limit - RESERVED)
    wanted = sum(caps)
    if wanted <= room:
        return caps
    fitted = tuple(max(1, cap * room // wanted) for cap in caps)
    log.warning(
        "open-file limit %d holds %d connections, not %d: the doors' connection caps are lowered to %s",
        limit,
        room,
        wanted,
        fitted,
        extra={"event": "fd.caps_lowered"},
    )
    return fitted
