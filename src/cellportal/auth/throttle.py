"""A small in-process limit on failed sign-ins, so guessing passwords online is slow.

Keyed by (client address, account name): one address cannot try more than `limit` wrong passwords for
one account per `window`, while the account's owner, signing in from elsewhere, is not locked out.
It lives in the process's memory, so with several web processes the limit is per process; good enough
against a script, and argon2 makes each try cost ~50 ms of our CPU anyway.
"""

from __future__ import annotations

import threading
import time
from collections import deque


def _key(address: str, account: str) -> tuple[str, str]:
    """One key per account however its name is typed (``Alice``, `` alice ``), as accounts.find_user reads it."""
    return address, account.strip().lower()


class FailureThrottle:
    def __init__(self, limit: int = 10, window_seconds: float = 15 * 60, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def retry_after(self, address: str, account: str) -> float | None:
        """Seconds to wait before trying again, or None when a try is allowed now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(_key(address, account), now)
            if len(failures) < self.limit:
                return None
            return max(1.0, self.window - (now - failures[0]))

    def failed(self, address: str, account: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._failures.clear()  # crude, but bounded memory under a flood of made-up names
            self._recent(_key(address, account), now).append(now)

    def succeeded(self, address: str, account: str) -> None:
        with self._lock:
            self._failures.pop(_key(address, account), None)
