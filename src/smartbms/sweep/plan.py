"""From a checked sweep to variants and batches of work.

Variant IDs are the expansion index, counting from 0: in a grid the last axis changes fastest
(as in `itertools.product`), in a zip variant k takes the k-th value of every axis. A variant is
its parameters and the scenario data with them applied; it is validated where it runs, so a
combination the scenario refuses is a failed row, not a failed sweep.

Warm-up snapshots: an axis is "late" when it only changes what happens after some time — a
timeline entry (its time or what it does) or the scenario's duration. Variants that differ only
in late axes share everything up to the earliest such time, so they are grouped, one twin runs
that warm-up once, and each variant starts from its snapshot (`Twin.snapshot`/`Twin.restore`).
"""

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from smartbms.sweep import axes as ax

WARM_UP_MARGIN_S = 1.0
"""A warm-up stops this long before the earliest late change, so no variant's change is in it."""


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Base:
    """A scenario file a sweep starts from: its name, its text (for error lines) and its data."""

    source: str
    text: str
    data: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Axis:
    """One checked axis: its column name, the field paths it sets and its values.

    An axis without paths chooses the base scenario (a comparison of files).
    """

    name: str
    paths: tuple[ax.Path_, ...]
    values: tuple[ax.Value, ...]

    @property
    def late(self) -> bool:
        """Whether it changes only a timeline entry or the duration (see the module doc)."""
        return bool(self.paths) and all(_late_path(path) for path in self.paths)


def _late_path(path: ax.Path_) -> bool:
    if path[0] == "timeline" and len(path) >= 3 and isinstance(path[1], int):
        return True
    return len(path) == 2 and path[0] == "scenario" and ax.time_stem(str(path[1])) == "duration"


@dataclasses.dataclass(frozen=True, slots=True)
class VariantSpec:
    """One variant as a worker receives it."""

    variant_id: int
    params: tuple[tuple[str, ax.Value], ...]
    data: dict[str, Any]
    source: str
    text: str
    warm_up_s: float | None
    """Until when it equals the other variants of its group (None: not snapshot-friendly)."""
    group: tuple[object, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Batch:
    """Variants run by one task; with `warm_up_s` they start from one shared snapshot."""

    variants: tuple[VariantSpec, ...]
    figures: tuple[str, ...]
    warm_up_s: float | None = None

    @property
    def ids(self) -> tuple[int, ...]:
        """The variant IDs it runs."""
        return tuple(v.variant_id for v in self.variants)


@dataclasses.dataclass(frozen=True, slots=True)
class Sweep:
    """A checked sweep: its bases, axes and figures, and a digest of every file it reads."""

    name: str
    description: str
    source: str
    bases: tuple[Base, ...]
    axes: tuple[Axis, ...]
    figures: tuple[str, ...]
    combine: str
    digest: str
    batch_size: int | None = None
    snapshots: bool = True

    @property
    def count(self) -> int:
        """How many variants it expands to."""
        sizes = [len(a.values) for a in self.axes]
        if self.combine == "zip":
            return min(sizes, default=1)
        return math.prod(sizes)

    def indices(self, variant_id: int) -> tuple[int, ...]:
        """The value index on each axis of a variant."""
        if not 0 <= variant_id < self.count:
            msg = f"no variant {variant_id}: this sweep has variants 0 to {self.count - 1}"
            raise IndexError(msg)
        if self.combine == "zip":
            return tuple(variant_id for _ in self.axes)
        found = []
        rest = variant_id
        for axis in reversed(self.axes):
            rest, index = divmod(rest, len(axis.values))
            found.append(index)
        return tuple(reversed(found))

    def params(self, variant_id: int) -> tuple[tuple[str, ax.Value], ...]:
        """(axis name, value) for each axis of a variant."""
        return tuple(
            (axis.name, axis.values[i])
            for axis, i in zip(self.axes, self.indices(variant_id), strict=True)
        )

    def variant(self, variant_id: int) -> VariantSpec:
        """One variant: its parameters and its scenario data."""
        indices = self.indices(variant_id)
        base = self.bases[0]
        settings: list[tuple[ax.Path_, ax.Value]] = []
        group: list[object] = []
        for axis, i in zip(self.axes, indices, strict=True):
            if not axis.paths:
                base = self.bases[i]
            settings.extend((path, axis.values[i]) for path in axis.paths)
            if not (axis.late and self.snapshots):
                group.append(i)
        data = ax.apply(base.data, settings)
        late = [s for s in settings if _late_path(s[0])] if self.snapshots else []
        warm_up = _warm_up_s(data, [path for path, _ in late]) if late else None
        return VariantSpec(
            variant_id,
            self.params(variant_id),
            data,
            base.source,
            base.text,
            warm_up,
            tuple(group),
        )


def _warm_up_s(data: dict[str, Any], paths: Sequence[ax.Path_]) -> float | None:
    """The earliest time a late path of this variant acts, less the margin; None if unknown."""
    times = []
    for path in paths:
        if path[0] == "scenario":
            table = data.get("scenario")
            stem = "duration"
        else:
            entries = data.get("timeline")
            index = path[1]
            table = entries[index] if isinstance(entries, list) and isinstance(index, int) else None
            stem = "at"
        seconds = ax.seconds_of(table, stem) if isinstance(table, dict) else None
        if seconds is None:
            return None
        times.append(seconds)
    start = min(times) - WARM_UP_MARGIN_S
    return start if start > 0 else None


def plan_batches(sweep: Sweep, ids: Sequence[int], batch_size: int) -> list[Batch]:
    """Batches of at most `batch_size` variants, in ID order; snapshot groups kept together.

    Every variant lands in exactly one batch. Variants that share a warm-up (the same values on
    every axis that is not late) are batched together and start from one snapshot taken at the
    group's earliest late change.
    """
    plain: list[VariantSpec] = []
    groups: dict[tuple[object, ...], list[VariantSpec]] = {}
    for variant_id in ids:
        variant = sweep.variant(variant_id)
        if variant.warm_up_s is None:
            plain.append(variant)
        else:
            groups.setdefault(variant.group, []).append(variant)
    batches = [
        Batch(tuple(plain[k : k + batch_size]), sweep.figures)
        for k in range(0, len(plain), batch_size)
    ]
    for members in groups.values():
        for k in range(0, len(members), batch_size):
            chunk = tuple(members[k : k + batch_size])
            starts = [v.warm_up_s for v in chunk if v.warm_up_s is not None]
            shared = min(starts) if len(chunk) > 1 else None
            batches.append(Batch(chunk, sweep.figures, shared))
    batches.sort(key=lambda batch: batch.variants[0].variant_id)
    return batches


def default_batch_size(todo: int, workers: int) -> int:
    """About 16 batches per worker (the last ones balance the load), at most 50 variants each.

    A variant is a whole run (tens of milliseconds to seconds), so even a batch of one is far
    above Dask's per-task overhead; batching saves the pickling and scheduling per variant.
    """
    return max(1, min(50, math.ceil(todo / max(1, workers * 16))))
