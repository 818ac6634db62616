"""Dates, times, date-times and durations: literals, arithmetic, properties and text."""
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal as D

import pytest

from service.decisions.feel import DaysTimeDuration, YearsMonthsDuration


@pytest.mark.parametrize("text, expected", [
    ('date("2018-12-08") + duration("P1D")', date(2018, 12, 9)),
    ('date("2018-01-31") + duration("P1M")', date(2018, 2, 28)),
    ('@"2018-12-08" - @"2018-12-01"', DaysTimeDuration(D(7 * 86400))),
    ('@"P1Y" + @"P2M"', YearsMonthsDuration(14)),
    ('@"PT1H" * 2', DaysTimeDuration(D(7200))),
    ('@"P1D" / @"PT1H"', D(24)),
    ('time("23:00:00") + duration("PT2H")', time(1, 0)),
    ('time("10:00:00") - time("08:30:00")', DaysTimeDuration(D(5400))),
    ('date and time("2018-12-08T10:30:00+01:00")',
     datetime(2018, 12, 8, 10, 30, tzinfo=timezone(timedelta(hours=1)))),
    ('years and months duration(date("2011-12-22"), date("2013-08-24"))', YearsMonthsDuration(20)),
    ('@"2021-01-02T10:10:10+01:00" - @"2021-01-01"', DaysTimeDuration(D(119410))),
    ('@"2021-01-01T00:00:00" - @"2021-01-02"', None),
    ('@"2018-12-08".year', D(2018)),
    ('@"2018-12-08".weekday', D(6)),
    ('@"2018-12-08T10:30:15+05:00".time offset', DaysTimeDuration(D(18000))),
    ('@"2018-12-08T10:30:00@Europe/Paris".timezone', "Europe/Paris"),
    ('@"P1DT2H3M4S".hours', D(2)),
    ('@"-P2Y3M".months', D(-3)),
    ('date("2018-12-08") < date("2018-12-09")', True),
    ('date("2018-12-08") = date and time("2018-12-08T00:00:00")', None),
    ('day of week(date("2019-09-17"))', "Tuesday"),
    ('week of year(date("2019-12-30"))', D(1)),
    ('month of year(date("2019-09-17"))', "September"),
    ('day of year(date("2019-12-31"))', D(365)),
    ('time(10, 30, 15.5, duration("PT1H"))', time(10, 30, 15, 500000, tzinfo=timezone(timedelta(hours=1)))),
    ('is(@"10:00:00+01:00", @"10:00:00@Europe/Paris")', False),
])
def test_temporal_values(value, text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('string(@"2018-12-08T10:30:00@Europe/Paris")', "2018-12-08T10:30:00@Europe/Paris"),
    ('string(@"2018-12-08T10:30:00.120Z")', "2018-12-08T10:30:00.12Z"),
    ('string(@"10:30:00-05:00")', "10:30:00-05:00"),
    ('string(duration("P1DT25H"))', "P2DT1H"),
    ('string(duration("-PT0.5S"))', "-PT0.5S"),
    ('string(duration("PT0S"))', "PT0S"),
    ('string(duration("P13M"))', "P1Y1M"),
    ('string(@"P0Y")', "P0M"),
])
def test_temporal_text(value, text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("text", [
    'date("2018-02-30")', 'time("25:00:00")', 'duration("P")', 'duration("PT")',
    'duration("1D")', 'date and time("2018-12-08T10:30:00@Not/AZone")',
])
def test_bad_temporal_text_is_null(value, text):
    assert value(text) is None


def test_duration_objects_compare_and_print():
    assert DaysTimeDuration(D(60)) < DaysTimeDuration(D(61))
    assert str(DaysTimeDuration(D(90061))) == "P1DT1H1M1S"
    assert str(YearsMonthsDuration(-14)) == "-P1Y2M"
    assert -YearsMonthsDuration(2) == YearsMonthsDuration(-2)
