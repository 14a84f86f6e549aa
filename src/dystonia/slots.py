"""Free appointment slots, computed from facts (working windows and busy intervals), never
stored. Pure and timezone-aware: local working hours become UTC instants with zoneinfo, so
days when the clocks change (Europe/London, March and October) come out right.

>>> from datetime import date, time
>>> from zoneinfo import ZoneInfo
>>> london = ZoneInfo("Europe/London")
>>> window = local_window(date(2026, 3, 29), time(9), time(10), tz=london)
>>> slots = free_slots([window], busy=[], duration_min=30, buffer_min=0, step_min=30)
>>> [s.start.isoformat() for s in slots]
['2026-03-29T08:00:00+00:00', '2026-03-29T08:30:00+00:00']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dystonia.errors import InvalidInput


class _Span(NamedTuple):
    start: datetime
    end: datetime


class Interval(_Span):
    """A half-open span of time [start, end) in UTC (a named tuple: searches make many)."""

    __slots__ = ()

    def __new__(cls, start: datetime, end: datetime) -> Interval:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput(
                field="interval", value=(start, end), allowed="timezone-aware datetimes"
            )
        if end <= start:
            raise InvalidInput(
                field="interval", value=(start, end), allowed="an end after the start"
            )
        return super().__new__(cls, start, end)

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


def _trusted(start: datetime, end: datetime) -> Interval:
    """An Interval from values already known to be aware and ordered (inside this module,
    where searches make thousands)."""
    return tuple.__new__(Interval, (start, end))


def _by_time(interval: Interval) -> tuple[datetime, datetime]:
    return interval.start, interval.end


def local_window(day: date, start: time, end: time, *, tz: ZoneInfo) -> Interval:
    """A working window given in local wall-clock time, as UTC instants."""
    begin = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    finish = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    return Interval(begin, finish)


def subtract(windows: Iterable[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """The parts of the windows not covered by any busy interval, in order."""
    blocks = sorted(busy)
    free: list[Interval] = []
    for window in sorted(windows):
        cursor = window.start
        for block in blocks:
            if block.end <= cursor or block.start >= window.end:
                continue
            if block.start > cursor:
                free.append(_trusted(cursor, block.start))
            cursor = max(cursor, block.end)
            if cursor >= window.end:
                break
        if cursor < window.end:
            free.append(_trusted(cursor, window.end))
    return free


def free_slots(
    windows: Sequence[Interval],
    *,
    busy: Sequence[Interval],
    duration_min: int,
    buffer_min: int,
    step_min: int,
    not_before: datetime | None = None,
) -> list[Interval]:
    """Slots of ``duration_min`` that, with ``buffer_min`` after them, fit in the windows
    without touching a busy interval; starting on the window's grid of ``step_min``.

    Busy intervals should already include their own buffer. Slots start no earlier than
    ``not_before`` (for example now). Returns the appointment span, without the buffer.
    """
    for name, value in (("duration_min", duration_min), ("step_min", step_min)):
        if value <= 0:
            raise InvalidInput(field=name, value=value, allowed="a positive number of minutes")
    if buffer_min < 0:
        raise InvalidInput(field="buffer_min", value=buffer_min, allowed="0 or more minutes")
    length = timedelta(minutes=duration_min)
    blocked = length + timedelta(minutes=buffer_min)
    step = timedelta(minutes=step_min)
    slots: list[Interval] = []
    for window in sorted(windows):
        for gap in subtract([window], busy):
            start = window.start
            # First grid point inside the gap.
            if gap.start > start:
                steps = -(-(gap.start - start) // step)
                start = window.start + steps * step
            # The buffer keeps the next appointment clear; none is needed at the day's end.
            needed = length if gap.end == window.end else blocked
            while start + needed <= gap.end:
                if not_before is None or start >= not_before:
                    slots.append(_trusted(start, start + length))
                start += step
    ordered = sorted(windows)
    if all(first.end <= second.start for first, second in pairwise(ordered)):
        return slots  # windows apart: the slots are already in order and distinct
    # Overlapping windows can offer a time twice; order by time (a key is faster than the
    # dataclass's own ordering on long lists).
    return sorted(dict.fromkeys(slots), key=_by_time)
