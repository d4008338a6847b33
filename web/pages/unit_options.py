"""The ``<option>`` list of a unit choice, built in Python: a province's tree holds hundreds of
units, and one Jinja loop over them cost more than the rest of the conference editor."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape


def unit_options(units: Iterable[dict], selected: object = None, *, marker: str = "· ", with_code: bool = False) -> Markup:
    """One option per unit in tree order, the unit whose id equals ``selected`` (an id or the text
    of one, as a form sends it back) selected. Indented by ``marker`` once per ``level`` where the
    rows carry one (the administration pages' choices), else per depth below the first unit;
    ``with_code`` adds the unit's short code."""
    chosen = "" if selected is None else str(selected)
    top: int | None = None
    parts = []
    for unit in units:
        depth = unit.get("depth")
        if top is None:
            top = depth
        if "level" in unit:
            steps = unit["level"]
        else:
            steps = depth - top if depth is not None and top is not None and depth > top else 0
        label = marker * steps + unit["name"] + (f" ({unit['short_code']})" if with_code else "")
        mark = " selected" if str(unit["id"]) == chosen else ""
        parts.append(f'<option value="{int(unit["id"])}"{mark}>{escape(label)}</option>')
    return Markup("".join(parts))
