"""Steps and calendar dates: which step a month falls in, which steps end a calendar year, and
the date of a step (the tables' ``date`` column, the figures' time axes, the view's clock).

Step 0 is the initial configuration at the scenario's ``start`` month and step ``t >= 1`` the
period ``start + (t - 1)`` steps (docs/ODD.md §2). A scenario without ``start`` has no calendar.
A step's date is the first day of its period: step 0 and step 1 are both the start month's first
day; with weekly steps, step ``t`` begins ``t - 1`` weeks after it.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

MONTH_NAMES: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def parse_month(text: str) -> tuple[int, int]:
    """``"2005-01"`` -> ``(2005, 1)`` (the schema has checked the form)."""
    y, m = (int(x) for x in text.split("-"))
    return y, m


def step_of_month(start: str, step: str, year: int, month: int = 1) -> int:
    """The first step whose period includes the first day of ``year-month`` (a date before the
    start gives step 0)."""
    y0, m0 = (int(x) for x in start.split("-"))
    months = (year - y0) * 12 + (month - m0)
    if months < 0:
        return 0
    periods = {
        "month": months,
        "year": -(-months // 12),
        "week": int(np.ceil(months * 30.4375 / 7)),
    }
    return periods[step] + 1


def year_end_steps(start: str | None, step: str, steps: int) -> list[int]:
    """The last step of each calendar year up to ``steps`` (and ``steps`` itself): the dates at
    which runs keep a snapshot of every tie (``tie_history``, for fitting to yearly data)."""
    if start is None:
        return []
    y0 = int(start[:4])
    out = []
    year = y0 + 1
    while True:
        last = step_of_month(start, step, year) - 1  # the step before January of the next year
        if last > steps:
            break
        if last >= 1:
            out.append(last)
        year += 1
    if not out or out[-1] != steps:
        out.append(steps)
    return out


def step_year(start: str, step: str, t: int) -> int:
    """The calendar year of step ``t`` (step 0 and 1 fall in the start month's year)."""
    y0, m0 = (int(x) for x in start.split("-"))
    k = max(t - 1, 0)
    if step == "month":
        return y0 + (m0 - 1 + k) // 12
    if step == "year":
        return y0 + k
    return (date(y0, m0, 1) + timedelta(weeks=k)).year


def step_of_date(start: str, step: str, month: str) -> int:
    """The step of a scenario's ``YYYY-MM`` date (an event's ``date``, a regime's ``start_date``):
    :func:`step_of_month`, the rule a power series' years follow too, so data and events dated
    the same month change at the same step; a month before the start gives step 0 (in force
    from the outset)."""
    return step_of_month(start, step, *parse_month(month))


def step_dates(start: str, step: str, steps: np.ndarray | list[int]) -> np.ndarray:
    """The date of each step (``datetime64[D]``): the first day of its period."""
    t = np.maximum(np.asarray(steps, dtype=np.int64) - 1, 0)
    y0, m0 = parse_month(start)
    if step == "week":
        return np.datetime64(date(y0, m0, 1), "D") + 7 * t
    months = ((y0 - 1970) * 12 + m0 - 1) + (t if step == "month" else 12 * t)  # since 1970-01
    return months.astype("datetime64[M]").astype("datetime64[D]")


def step_date(start: str, step: str, t: int) -> date:
    """The date of step ``t``: the first day of its period."""
    return step_dates(start, step, [t])[0].astype(date)


def date_label(start: str, step: str, t: int) -> str:
    """Step ``t`` as people write it: ``March 2007`` (monthly), ``2007`` (yearly),
    ``week of 2007-03-05`` (weekly)."""
    d = step_date(start, step, t)
    if step == "month":
        return f"{MONTH_NAMES[d.month - 1]} {d.year}"
    if step == "year":
        return str(d.year)
    return f"week of {d.isoformat()}"
