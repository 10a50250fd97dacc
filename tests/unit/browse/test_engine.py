"""The facet engine's pure helpers: postings, prefix ranges and distinct counting over sorted rows."""

from __future__ import annotations

import numpy as np

from cellportal.browse.engine import _prefix_range, distinct_runs
from cellportal.browse.snapshot import Postings


def test_postings_sort_targets_within_each_key() -> None:
    postings = Postings.build([[3, 1], [], [2, 0, 5]])
    assert postings.indptr.tolist() == [0, 2, 2, 5]
    assert postings.indices.tolist() == [1, 3, 0, 2, 5]
    assert postings.owner.tolist() == [0, 0, 2, 2, 2]
    assert postings.targets(1, 3).tolist() == [0, 2, 5]  # keys 1 and 2: contiguous


def test_prefix_range_is_the_sql_range() -> None:
    words = ["lun", "lung", "lungs", "lunh", "lymph"]
    first, last = _prefix_range(words, "lung")
    assert words[first:last] == ["lung", "lungs"]
    assert _prefix_range(words, "zebra") == (5, 5)


def test_distinct_runs_count_groups_per_key() -> None:
    groups = np.array([0, 0, 1, 1, 1, 2])
    keys = np.array([0, 0, 0, 1, 1, 1])
    starts = distinct_runs(groups, keys)
    assert np.bincount(keys, weights=starts).tolist() == [2, 2]  # key 0: groups 0, 1; key 1: groups 1, 2
    assert int(distinct_runs(groups).sum()) == 3
    assert distinct_runs(np.array([], dtype=np.int32)).tolist() == []
