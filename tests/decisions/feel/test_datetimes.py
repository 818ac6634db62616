"""Dates beyond Python's years 1..9999 and times to the nanosecond behave as FEEL's do."""
from datetime import date, datetime
from decimal import Decimal as D

import pytest

from service.decisions.feel.datetimes import FarDate, FeelDateTime, make_date, make_date_time


@pytest.mark.parametrize("text, expected", [
    ('string(@"-2021-01-01" + @"P1M")', "-2021-02-01"),
    ('string(@"-2021-03-01" - @"P1D")', "-2021-02-28"),
    ('string(@"-2021-01-01T10:10:10+11:00" + @"PT1H")', "-2021-01-01T11:10:10+11:00"),
    ('string(@"-2021-01-01T10:10:10@Australia/Melbourne" - @"P1Y")',
     "-2022-01-01T10:10:10@Australia/Melbourne"),
    ('@"-2021-01-01".year', D(-2021)),
    ('day of week(@"-2021-01-01")', "Monday"),   # the 400-year cycle keeps weekdays
    ('@"-2021-01-01" < @"2021-01-01"', True),
    ('@"99999-12-31" > @"9999-12-31"', True),
    ('@"2021-01-01" - @"2020-01-01" = @"-2019-01-01" - @"-2020-01-01"', True),
    ('string(years and months duration(date("-2016-01-30"), date("-2017-02-28")))', "-P11M"),
    ("string(date(999999999, 12, 31))", "999999999-12-31"),
    ('string(date("-0001-02-03"))', "-0001-02-03"),
    ("date(1000000000, 1, 1)", None),
    ('string(date and time("2011-12-31T10:15:30.123456789@Europe/Paris"))',
     "2011-12-31T10:15:30.123456789@Europe/Paris"),
    ('string(date and time(date("2017-01-01"), time("23:59:01.000000001")))',
     "2017-01-01T23:59:01.000000001"),
    ('time("10:00:00.000000001") > time("10:00:00")', True),
])
def test_far_years_and_nanoseconds(value, text, expected):
    assert value(text) == expected


def test_values_python_can_hold_stay_plain():
    assert type(make_date(2024, 2, 29)) is date
    assert type(make_date_time(2024, 2, 29, 10)) is datetime
    far = make_date(-44, 3, 15)
    assert isinstance(far, FarDate) and isinstance(far, date) and far.year == -44
    assert (far + (make_date(2024, 1, 1) - make_date(2023, 1, 1))).year == -43
    moved = make_date_time(10000, 1, 1) - (make_date_time(10000, 1, 1) - make_date_time(9999,
                                                                                         12, 31))
    assert type(moved) is datetime and moved.year == 9999
    assert isinstance(make_date_time(2020, 1, 1, nanos=5), FeelDateTime)
