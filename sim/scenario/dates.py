"""Events, sanctions regimes and treaties given by calendar month: checked, then turned into steps.

Why here and not in the model: a date is a way of writing a step. Loading resolves it once
(:func:`resolve_dates`), so the world, the dynamics, the dumps (``scenario_resolved``) and the
scenario's hash see the same steps whether a user wrote ``step: 25`` or ``date: 2007-01``.
The dates stay on the validated object for whoever shows them (the view's event marks).
"""

from __future__ import annotations

from sim.errors import PathPart
from sim.scenario.calendar import step_of_date
from sim.scenario.schema import DATE_FIELDS, Scenario

Problems = list[tuple[tuple[PathPart, ...], str]]


def date_problems(sc: Scenario) -> Problems:
    """A date without the scenario's ``start``, a date and its step both given, an event with
    neither: each at the field a user has to fix."""
    bad: Problems = []
    for field, pairs in DATE_FIELDS.items():
        for i, item in enumerate(getattr(sc, field)):
            for date_field, step_field in pairs.items():
                if getattr(item, date_field) is None:
                    continue
                path = (field, i, date_field)
                if sc.start is None:
                    bad.append((path, "a date needs the scenario's start (e.g. start: 2005-01)"))
                if step_field in item.model_fields_set:
                    bad.append((path, f"give {step_field} or {date_field}, not both"))
    for i, ev in enumerate(sc.events):
        if ev.step is None and ev.date is None:
            bad.append((("events", i), "needs step (a step number) or date (YYYY-MM)"))
    return bad


def resolve_dates(sc: Scenario) -> None:
    """Set every dated item's step fields from its dates, in place (``date_problems`` is empty)."""
    if sc.start is None:
        return
    for field, pairs in DATE_FIELDS.items():
        for item in getattr(sc, field):
            for date_field, step_field in pairs.items():
                month = getattr(item, date_field)
                if month is not None:
                    setattr(item, step_field, step_of_date(sc.start, sc.step, month))


def as_written(item: object, step_field: str) -> tuple[str, str]:
    """The field a user wrote for ``step_field`` (it, or its dated twin) and its value as text,
    for messages: ``("end_date", "2011-12 = step 85")`` or ``("end", "85")``."""
    for pairs in DATE_FIELDS.values():
        for date_field, step in pairs.items():
            month = getattr(item, date_field, None)
            if step == step_field and month is not None:
                return date_field, f"{month} = step {getattr(item, step_field)}"
    return step_field, str(getattr(item, step_field))
