"""Dashboard controls generated from the scenario schema, and scenarios made from their values.

Every control comes from a field of `sim.config.Scenario`: its key, range, step, unit and meaning
are the field's own (`sim.params.param`), so a lever's definition is the one place they are stated.
The controls cover the run settings a planner changes (`RUN_KEYS`) and every field of every
`[levers.<name>]` section, nested tables included (one control per tier or level).

Control values become a scenario through `sim.config.with_values` and `sim.config.validate`, so an
invalid value is the same one-line `ScenarioError` the command line prints.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.config import (
    Scenario,
    ScenarioError,
    field_bounds,
    read_toml,
    toml_value,
    validate,
    with_values,
)
from sim.levers import Levers
from sim.params import deep_merge
from sim.presentation.labels import labels

RUN_KEYS = ("run.scale", "run.years", "run.seed", "run.warmup_days")
"""Run settings shown as controls, besides the scenario's name."""

SCHEME_FALLBACK = {
    "levers.start_line.employee": "insurance.employee",
    "levers.start_line.resident": "insurance.resident",
}
"""Optional tables whose unset keys keep another table's values (see `sim.levers.merge_scheme_rules`):
their controls start from that table."""


@dataclass(frozen=True)
class Control:
    """One control of the dashboard: a scenario field.

    Attributes:
        key: Dotted scenario key, e.g. "levers.reserved_beds.share".
        kind: "switch" (on/off), "share" (a slider over [0, 1]), "integer", "number" or "text".
        path: Field names from the section down (labels are made from them).
        unit: The field's unit, as declared.
        meaning: The field's one-sentence description.
        minimum: Lower bound, or None.
        maximum: Upper bound, or None.
        open_minimum: The lower bound itself is not allowed (declared with `gt`).
        open_maximum: The upper bound itself is not allowed (declared with `lt`).
        value: The field's value in the scenario the controls were made from.
    """

    key: str
    kind: str
    path: tuple[str, ...]
    unit: str
    meaning: str
    minimum: float | None
    maximum: float | None
    open_minimum: bool
    open_maximum: bool
    value: Any

    @property
    def step(self) -> float | str:
        """Step of the input: 1 for integers, 0.01 for shares, any otherwise."""
        return {"integer": 1, "share": 0.01}.get(self.kind, "any")

    def range_text(self) -> str:
        """The allowed range as text, e.g. "0–1", "> 0 and ≤ 1", "≥ 0"."""
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None and not (self.open_minimum or self.open_maximum):
            return f"{_number(lo)}–{_number(hi)}"
        parts = []
        if lo is not None:
            parts.append(f"{'>' if self.open_minimum else '≥'} {_number(lo)}")
        if hi is not None:
            parts.append(f"{'<' if self.open_maximum else '≤'} {_number(hi)}")
        return " and ".join(parts)

    def label(self, lang: str) -> str:
        """The control's name in a language, e.g. "Inpatient start-line · Tertiary"."""
        return " · ".join(_name(part, lang) for part in self.path)

    def unit_text(self, lang: str) -> str:
        """The unit in a language (as declared when it has no label)."""
        return labels(lang).get(f"unit.{self.unit}", self.unit)


@dataclass(frozen=True)
class Section:
    """A group of controls: the run settings, or one lever.

    Attributes:
        key: "run" or the lever's name.
        controls: The section's controls, in schema order.
    """

    key: str
    controls: tuple[Control, ...]

    def title(self, lang: str) -> str:
        """The section's title in a language (its key in words when it has no label)."""
        return labels(lang).get(f"section.{self.key}", self.key.replace("_", " ").capitalize())


def _number(x: float) -> str:
    """2 → "2", 0.5 → "0.5", 100000 → "100,000"."""
    if float(x).is_integer():
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    return f"{x:g}"


def _name(part: str, lang: str) -> str:
    """A field name as shown: its tier, component, level or field label, else the name in words."""
    lab = labels(lang)
    for prefix in ("tier_", "component_", "level_", "field."):
        if f"{prefix}{part}" in lab:
            return lab[f"{prefix}{part}"]
    return part.replace("_", " ").capitalize()


def _kind(info: FieldInfo, lo: float | None, hi: float | None, closed: bool) -> str:
    if info.annotation is bool:
        return "switch"
    if info.annotation is int:
        return "integer"
    if info.annotation is str or get_origin(info.annotation) is Literal:
        return "text"
    return "share" if (lo, hi) == (0, 1) and closed else "number"


def _value_at(scenario: BaseModel, key: str) -> Any:
    """A scenario's value at a dotted key; an unset optional table reads its fallback table."""
    node: Any = scenario
    walked: list[str] = []
    for part in key.split("."):
        walked.append(part)
        node = getattr(node, part)
        if node is None and ".".join(walked) in SCHEME_FALLBACK:
            node = _value_at(scenario, SCHEME_FALLBACK[".".join(walked)])
    return node


def _model_class(info: FieldInfo) -> type[BaseModel] | None:
    """The parameter block a field holds (also when it is optional), or None for a plain value."""
    for option in (info.annotation, *get_args(info.annotation)):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option
    return None


def _walk(model: type[BaseModel], prefix: str, path: tuple[str, ...], scenario: Scenario) -> Iterator[Control]:
    """A control for every plain field of a block and, recursively, of its nested blocks."""
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        nested = _model_class(info)
        if nested is not None:
            yield from _walk(nested, f"{key}.", (*path, name), scenario)
            continue
        yield _control(key, (*path, name), info, scenario)


def _control(key: str, path: tuple[str, ...], info: FieldInfo, scenario: Scenario) -> Control:
    lo, lo_open, hi, hi_open = field_bounds(info)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return Control(
        key=key,
        kind=_kind(info, lo, hi, not (lo_open or hi_open)),
        path=path,
        unit=str(extra.get("unit", "")),
        meaning=info.description or "",
        minimum=lo,
        maximum=hi,
        open_minimum=lo_open,
        open_maximum=hi_open,
        value=_value_at(scenario, key),
    )


def _field(key: str) -> FieldInfo:
    """The schema field at a dotted key."""
    model: type[BaseModel] = Scenario
    parts = key.split(".")
    for part in parts[:-1]:
        nested = _model_class(model.model_fields[part])
        assert nested is not None, key
        model = nested
    return model.model_fields[parts[-1]]


def sections(scenario: Scenario | None = None) -> list[Section]:
    """The dashboard's controls, grouped: run settings, then one section per lever.

    Args:
        scenario: Whose values the controls hold (default: the built-in baseline).

    Returns:
        The sections, each with its controls in schema order.
    """
    scenario = Scenario() if scenario is None else scenario
    run = [_control("name", ("name",), Scenario.model_fields["name"], scenario)]
    run += [_control(key, (key.split(".")[-1],), _field(key), scenario) for key in RUN_KEYS]
    out = [Section("run", tuple(run))]
    for name, info in Levers.model_fields.items():
        model = _model_class(info)
        assert model is not None
        out.append(Section(name, tuple(_walk(model, f"levers.{name}.", (), scenario))))
    return out


def controls(scenario: Scenario | None = None) -> list[Control]:
    """Every control of `sections`, in order."""
    return [c for s in sections(scenario) for c in s.controls]


def _coerce(control: Control, value: Any, source: str) -> Any:
    """A control's value as the scenario takes it; an empty number is a one-line error."""
    if control.kind == "switch":
        return bool(value)
    if control.kind == "text":
        return "" if value is None else str(value)
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        unit = f" ({control.unit})" if control.unit else ""
        raise ScenarioError(f"{source}: {control.key} is empty; allowed: {control.range_text()}{unit}")
    if control.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def apply(base: dict[str, Any], values: dict[str, Any], source: str = "settings") -> tuple[dict[str, Any], Scenario]:
    """Scenario data and the validated scenario: `base` with the control values that differ from it.

    Only values that differ from the base scenario are written, so a scenario saved from the page
    holds what its file held plus what was changed.

    Args:
        base: Scenario data as read from TOML (`{}` for the built-in baseline).
        values: Control key → value from the page (switches: True/False).
        source: Names the settings in error messages.

    Returns:
        The new scenario data and its validated scenario.

    Raises:
        ScenarioError: With one line naming the field and its allowed range.
    """
    # Validation completes start-line tables in place (`merge_scheme_rules`): copies keep the data minimal.
    current = {c.key: c for c in controls(validate(copy.deepcopy(base), source))}
    changed = {}
    for key, value in values.items():
        if key not in current:
            raise ScenarioError(f"{source}: unknown setting '{key}'")
        control = current[key]
        given = _coerce(control, value, source)
        if given != control.value:
            changed[key] = given
    data = with_values(base, changed, source)
    return data, validate(copy.deepcopy(data), source)


def read_text(text: str, source: str, folders: Sequence[Path]) -> dict[str, Any]:
    """Scenario data from the text of a TOML file (an upload), `extends` resolved.

    An uploaded file has no folder of its own, so the file it extends is looked up in `folders`.

    Args:
        text: The file's content.
        source: The file's name, for messages.
        folders: Where to look for the file named by `extends`, in order.

    Raises:
        ScenarioError: Malformed TOML, a missing parent file, or invalid values (one line).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: malformed TOML: {exc}") from None
    parent = raw.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(f"{source}: extends must be a file name (a string), got {parent!r}")
        found = next((Path(f) / parent for f in folders if (Path(f) / parent).is_file()), None)
        if found is None:
            where = ", ".join(str(f) for f in folders)
            raise ScenarioError(f"{source}: extends = {parent!r}: no such file in {where}")
        raw = deep_merge(read_toml(found), raw)
    validate(copy.deepcopy(raw), source)
    return raw


def _toml_table(data: dict[str, Any], prefix: str, lines: list[str]) -> None:
    """Append a table's plain keys, then each sub-table as its own `[section]`."""
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            if any(not isinstance(v, dict) for v in value.values()):
                lines.extend(["", f"[{name}]"])
            _toml_table(value, f"{name}.", lines)


def to_toml(data: dict[str, Any]) -> str:
    """Scenario data as a TOML scenario file that `tiersim run` accepts.

    Args:
        data: Scenario data (plain values and nested tables).

    Returns:
        The file's text, with a comment saying where it came from.
    """
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    lines = [f"# Saved by the tiersim dashboard on {stamp}. Run it with: tiersim run <this file>", ""]
    _toml_table(data, "", lines)
    text = "\n".join(lines).strip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text
