"""Steps and calendar dates: which step a month falls in, which steps end a calendar year.

Step 0 is the initial configuration at the scenario's ``start`` month and step ``t >= 1`` the
period ``start + (t - 1)`` steps (docs/ODD.md §2). A scenario without ``start`` has no calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np


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
