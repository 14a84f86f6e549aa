"""Slot computation: working windows minus busy time, correct across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia.errors import InvalidInput
from dystonia.slots import Interval, free_slots, local_window, subtract

LONDON = ZoneInfo("Europe/London")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 28), 9),  # the Saturday before the spring change: GMT
        (date(2026, 3, 29), 8),  # the change day itself: BST from 01:00 UTC
        (date(2026, 10, 24), 8),  # the Saturday before the autumn change: BST
        (date(2026, 10, 25), 9),  # the change day: GMT again
    ],
)
def test_nine_oclock_london_is_right_either_side_of_the_clock_changes(day, utc_hour):
    window = local_window(day, time(9), time(17), tz=LONDON)

    assert window.start == datetime(day.year, day.month, day.day, utc_hour, tzinfo=UTC)
    assert window.end - window.start == timedelta(hours=8)


def test_a_window_across_the_spring_gap_is_an_hour_shorter():
    window = local_window(date(2026, 3, 29), time(0), time(4), tz=LONDON)

    assert window.end - window.start == timedelta(hours=3)


def test_a_window_across_the_autumn_repeat_is_an_hour_longer():
    window = local_window(date(2026, 10, 25), time(0), time(4), tz=LONDON)

    assert window.end - window.start == timedelta(hours=5)


def test_slots_fill_a_window_on_the_grid():
    window = Interval(utc(2026, 5, 1, 9), utc(2026, 5, 1, 11))

    slots = free_slots([window], busy=[], duration_min=30, buffer_min=0, step_min=30)

    assert [s.start.hour * 60 + s.start.minute for s in slots] == [540, 570, 600, 630]


def test_busy_time_and_buffers_are_respected():
    window = Interval(utc(2026, 5, 1, 9), utc(2026, 5, 1, 12))
    busy = [Interval(utc(2026, 5, 1, 10), utc(2026, 5, 1, 10, 40))]  # a 30-minute visit + 10 buffer

    slots = free_slots([window], busy=busy, duration_min=30, buffer_min=10, step_min=15)

    starts = [(s.start.hour, s.start.minute) for s in slots]
    assert (9, 15) in starts  # 9:15-9:45, buffer to 9:55, clear of 10:00
    assert (9, 30) not in starts  # its buffer would run into 10:00
    assert (10, 30) not in starts
    assert (10, 45) in starts
    assert (11, 30) in starts  # the day's last slot needs no buffer after it


def test_slots_before_not_before_are_dropped():
    window = Interval(utc(2026, 5, 1, 9), utc(2026, 5, 1, 11))

    slots = free_slots(
        [window],
        busy=[],
        duration_min=60,
        buffer_min=0,
        step_min=30,
        not_before=utc(2026, 5, 1, 9, 10),
    )

    assert slots[0].start == utc(2026, 5, 1, 9, 30)


@pytest.mark.parametrize(
    ("duration", "buffer", "step", "field"),
    [(0, 0, 15, "duration_min"), (30, -5, 15, "buffer_min"), (30, 0, 0, "step_min")],
)
def test_bad_parameters_name_the_field(duration, buffer, step, field):
    with pytest.raises(InvalidInput, match=field):
        free_slots([], busy=[], duration_min=duration, buffer_min=buffer, step_min=step)


def test_intervals_must_be_aware_and_forward():
    with pytest.raises(InvalidInput):
        Interval(datetime(2026, 5, 1, 9), datetime(2026, 5, 1, 10))  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidInput):
        Interval(utc(2026, 5, 1, 10), utc(2026, 5, 1, 9))


def test_subtract_splits_a_window():
    window = Interval(utc(2026, 5, 1, 9), utc(2026, 5, 1, 12))

    gaps = subtract([window], [Interval(utc(2026, 5, 1, 10), utc(2026, 5, 1, 11))])

    assert gaps == [
        Interval(utc(2026, 5, 1, 9), utc(2026, 5, 1, 10)),
        Interval(utc(2026, 5, 1, 11), utc(2026, 5, 1, 12)),
    ]


minutes = st.integers(min_value=0, max_value=8 * 60)
busy_blocks = st.lists(st.tuples(minutes, st.integers(min_value=5, max_value=120)), max_size=8)


@given(
    busy=busy_blocks,
    duration=st.sampled_from([15, 20, 30, 45, 60]),
    buffer=st.sampled_from([0, 5, 10, 15]),
    step=st.sampled_from([5, 10, 15, 30]),
)
def test_slots_never_overlap_busy_time_and_stay_inside_the_window(busy, duration, buffer, step):
    base = utc(2026, 6, 1, 8)
    window = Interval(base, base + timedelta(hours=8))
    intervals = [
        Interval(base + timedelta(minutes=s), base + timedelta(minutes=s + n)) for s, n in busy
    ]

    slots = free_slots(
        [window], busy=intervals, duration_min=duration, buffer_min=buffer, step_min=step
    )

    assert slots == sorted(slots)
    for slot in slots:
        assert window.start <= slot.start
        assert slot.end <= window.end
        assert slot.end - slot.start == timedelta(minutes=duration)
        assert (slot.start - window.start) % timedelta(minutes=step) == timedelta(0)
        assert not any(slot.overlaps(block) for block in intervals)
        with_buffer = Interval(slot.start, min(slot.end + timedelta(minutes=buffer), window.end))
        assert not any(with_buffer.overlaps(block) for block in intervals)
