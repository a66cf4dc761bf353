"""Global passage rows over the segments of a snapshot.

A snapshot is an ordered list of segments, each with its own local rows, plus deletion marks (local rows that a
later version removed). Everything above the snapshot sees one row space: the live rows of segment 0, then the
live rows of segment 1, and so on. Deleted rows have no global row, so no search, filter or roll-up can return them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


class SegmentRows:
    """Maps global passage rows to (segment, local row) and back.

    Example:
        rows = SegmentRows([3, 2], [np.array([1]), np.array([], dtype=np.int64)])
        rows.size                  # 4: rows 0, 2 of segment 0, rows 0, 1 of segment 1
        rows.to_global(1, np.array([0]))   # [2]
    """

    def __init__(self, sizes: Sequence[int], deleted: Sequence[np.ndarray] | None = None) -> None:
        deleted = deleted if deleted is not None else [np.empty(0, dtype=np.int64)] * len(sizes)
        self.sizes = [int(size) for size in sizes]
        self.deleted = [np.unique(np.asarray(marks, dtype=np.int64)) for marks in deleted]
        # live[s]: the local rows of segment s that are live, or None when none is deleted (the common case).
        self.live: list[np.ndarray | None] = [
            None if len(marks) == 0 else _without(size, marks) for size, marks in zip(self.sizes, self.deleted, strict=True)
        ]
        counts = [size if live is None else len(live) for size, live in zip(self.sizes, self.live, strict=True)]
        self.offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)
        self._global: list[np.ndarray | None] = []
        for segment, live in enumerate(self.live):
            if live is None:
                self._global.append(None)
                continue
            mapping = np.full(self.sizes[segment], -1, dtype=np.int64)
            mapping[live] = self.offsets[segment] + np.arange(len(live), dtype=np.int64)
            self._global.append(mapping)

    @property
    def size(self) -> int:
        """Live passages in all segments together."""
        return int(self.offsets[-1])

    @property
    def simple(self) -> bool:
        """One segment without deletions: global rows are local rows."""
        return len(self.sizes) == 1 and self.live[0] is None

    def deleted_count(self) -> int:
        return int(sum(len(marks) for marks in self.deleted))

    def to_global(self, segment: int, local: np.ndarray) -> np.ndarray:
        """Global rows of these local rows of one segment; -1 for deleted ones."""
        local = np.asarray(local, dtype=np.int64)
        mapping = self._global[segment]
        return local + self.offsets[segment] if mapping is None else mapping[local]

    def to_local(self, segment: int, rows: np.ndarray) -> np.ndarray:
        """Local rows of global rows that lie in `segment`."""
        positions = np.asarray(rows, dtype=np.int64) - self.offsets[segment]
        live = self.live[segment]
        return positions if live is None else live[positions]

    def segment_of(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, np.asarray(rows, dtype=np.int64), side="right") - 1

    def split(self, rows: Sequence[int] | np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """For rows in any order: (segment, positions in `rows`, local rows), one tuple per segment touched."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.size):
            raise IndexError(f"passage row {int(rows.max() if rows.max() >= self.size else rows.min())} out of range")
        segments = self.segment_of(rows)
        for segment in np.unique(segments).tolist():
            positions = np.flatnonzero(segments == segment)
            yield segment, positions, self.to_local(segment, rows[positions])

    def local_allowed(self, segment: int, allowed: np.ndarray | None) -> np.ndarray | None:
        """The local rows of `segment` a search may return: a sorted global `allowed` cut to this segment, or
        the segment's live rows (None: all of them)."""
        if allowed is None:
            return self.live[segment]
        start, end = np.searchsorted(allowed, self.offsets[segment : segment + 2])
        return self.to_local(segment, allowed[start:end])


def _without(size: int, marks: np.ndarray) -> np.ndarray:
    """0..size-1 without `marks`, sorted (a mask, not `np.setdiff1d`'s sort of a million rows: ~1 s per swap)."""
    keep = np.ones(size, dtype=bool)
    keep[marks] = False
    return np.flatnonzero(keep).astype(np.int64)
