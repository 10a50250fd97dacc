"""Background processing: the dataset pipeline and the task queue it runs on.

The job rows in the catalog are the source of truth (state, step, progress, heartbeat); Celery only
carries job ids. See ``rules.py`` for the decisions, ``pipeline.py`` for the steps, ``supervisor.py`` and
``reaper.py`` for keeping workers and jobs alive.
"""

from __future__ import annotations

from cellportal.jobs.service import attach_original, queue_processing, sender_for, store_original

__all__ = ["attach_original", "queue_processing", "sender_for", "store_original"]
