"""Child processes that die with their parent (Linux ``PR_SET_PDEATHSIG``).

A killed worker must not leave a converter writing, or a Celery process heartbeating a job, behind it:
the reaper would then never see the job go silent. Elsewhere this is a no-op and the per-attempt work
directories keep stragglers harmless.
"""

from __future__ import annotations

import ctypes
import signal
from typing import Any

PR_SET_PDEATHSIG = 1


def _load_libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


# Loaded here, not in the forked child: between fork and exec only the prctl call itself may run.
_LIBC = _load_libc()


def die_with_parent() -> None:
    """Use as ``preexec_fn``, or call first thing in a forked child."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
