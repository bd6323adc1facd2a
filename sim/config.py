"""Scenarios: the pydantic schema, TOML loading with `extends`, `--set` overrides, clear errors.

A scenario file is TOML. Every key is optional (defaults are the embedded baseline); unknown keys
are errors. A file may start with `extends = "other.toml"` (relative to itself) to take another
scenario and change a few values, and may name a region in files, `region = "folder"` (also
relative to itself; the table `[region]` with `files = "folder"` says the same).
`--set dotted.key=value` overrides a loaded scenario.

Every failure — unreadable or malformed file, unknown key, value out of range, bad `--set` — is a
`ScenarioError` whose message is one line naming the field and the allowed range.
"""

from __future__ import annotations

import difflib
import json
import tomllib
import typing
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, Field, ValidationError, model_validator

from sim.levers import Levers, merge_scheme_rules
from sim.parameters.care import CareParams
from sim.parameters.choice import ChoiceParams
from sim.parameters.illness import IllnessParams
from sim.parameters.insurance import InsuranceParams
from sim.parameters.population import PopulationParams
from sim.parameters.prices import PriceParams
from sim.parameters.region import RegionParams
from sim.parameters.workforce import WorkforceParams
from sim.params import StrictModel, deep_merge, param

DEFAULT_SCALE = 1.0
"""Default share of the full 2.5-million city simulated by `tiersim run`: all of it (README: scale)."""


class RunSettings(StrictModel):
    """How long, how big, which seed."""

    years: int = param(
        5,
        "years",
        "setting: five years (2024–2028), so levers switched on in year 1 act for four",
        "Simulated years.",
        ge=1,
        le=100,
    )
    seed: int = param(
        1,
        "integer",
        "setting: any seed; runs with the same seed share every draw",
        "Seed of every random draw.",
        ge=0,
        le=2**63 - 1,
    )
    scale: float = param(
        DEFAULT_SCALE,
        "share of full scale",
        "setting: the whole city; five years take ≈23 s on 2 cores (docs/performance.md)",
        "Fraction of the region's residents simulated; facility capacities shrink with them, the map does not.",
        gt=0,
        le=1,
    )
    warmup_days: int = param(
        90,
        "days",
        "assumption: about ten average stays",
        "Days simulated before year 0 and not recorded, so wards and queues start full, not empty.",
        ge=0,
        le=3650,
    )
    start_year: int = param(
        2024,
        "calendar year",
        "setting: labels simulated year 0; changes no result",
        "Calendar year of simulated year 0.",
        ge=1900,
        le=2200,
    )


class Scenario(StrictModel):
    """A complete scenario: run settings and every module's parameters."""

    name: str = Field("baseline", description="Short name, used in reports and output folders.")
    description: str = Field(
        "Today's rules: fee-for-service, baseline start-lines and rates, no reform levers.",
        description="What the scenario models.",
    )
    run: RunSettings = Field(default_factory=RunSettings)
    region: RegionParams = Field(default_factory=RegionParams)
    population: PopulationParams = Field(default_factory=PopulationParams)
    illness: IllnessParams = Field(default_factory=IllnessParams)
    choice: ChoiceParams = Field(default_factory=ChoiceParams)
    care: CareParams = Field(default_factory=CareParams)
    insurance: InsuranceParams = Field(default_factory=InsuranceParams)
    prices: PriceParams = Field(default_factory=PriceParams)
    levers: Levers = Field(default_factory=Levers)
    workforce: WorkforceParams = Field(default_factory=WorkforceParams)

    @model_validator(mode="before")
    @classmethod
    def _complete_lever_rules(cls, data: Any) -> Any:
        """A start-line lever's scheme tables start from the scenario's own insurance rules."""
        return merge_scheme_rules(_region_table(data)) if isinstance(data, dict) else data


def _region_table(data: dict[str, Any]) -> dict[str, Any]:
    """Scenario data with `region = "DIR"` written as the table `region.files = "DIR"` (a copy if changed)."""
    if isinstance(data.get("region"), str) and data["region"].strip():  # a blank one is no folder: refused
        return {**data, "region": {"files": data["region"]}}
    return data


class ScenarioError(ValueError):
    """A scenario (file, override or value) is invalid; the message is one line for the user."""


def _locate(loc: tuple[Any, ...], root: type[BaseModel]) -> tuple[type[BaseModel] | None, Any]:
    """The model class that owns `loc[-1]`, and that field's info (None for an unknown key)."""
    owner: type[BaseModel] | None = root
    info = None
    for i, key in enumerate(loc):
        if owner is None or not isinstance(key, str) or key not in owner.model_fields:
            return (owner if i == len(loc) - 1 else None), None
        info = owner.model_fields[key]
        if i < len(loc) - 1:
            default = info.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                owner = type(default)
            else:  # an optional table (e.g. levers.start_line.resident): its model is in the annotation
                options = (info.annotation, *get_args(info.annotation))
                owner = next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None)
    return owner, info


def _number(x: float) -> str:
    """1.5 → "1.5", 50.0 → "50", 50000000 → "50,000,000"."""
    if float(x).is_integer():
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    return f"{x:g}"


def field_bounds(info: Any) -> tuple[float | None, bool, float | None, bool]:
    """(lower, lower is open, upper, upper is open) from a pydantic field's constraints (None: unbounded)."""
    lo = hi = None
    lo_open = hi_open = False
    for m in getattr(info, "metadata", []):
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    return lo, lo_open, hi, hi_open


def toml_value(value: Any) -> str:
    """A scenario value (boolean, number, string or list of them) written as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, but for DEL, which TOML allows only escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ScenarioError(f"cannot write {value!r} to TOML")


def _allowed(info: Any) -> str:
    lo, lo_open, hi, hi_open = field_bounds(info)
    unit = (info.json_schema_extra or {}).get("unit", "") if info is not None else ""
    if lo is None and hi is None:
        if info is None:
            return ""
        if info.annotation is bool:
            return "true or false"
        if typing.get_origin(info.annotation) is typing.Literal:
            return "one of " + ", ".join(map(str, typing.get_args(info.annotation)))
        return "text" if info.annotation is str else "a table (see docs)"
    left = f"{'>' if lo_open else '≥'} {_number(lo)}" if lo is not None else ""
    right = f"{'<' if hi_open else '≤'} {_number(hi)}" if hi is not None else ""
    span = " and ".join(p for p in (left, right) if p)
    return f"{span}{f' ({unit})' if unit else ''}"


def describe_error(exc: ValidationError, source: str, root: type[BaseModel] | None = None) -> str:
    """One line for the first validation error: where, what was given, what is allowed.

    Args:
        exc: The pydantic error.
        source: Where the data came from (file name), put first in the message.
        root: The model that was validated (default: `Scenario`).
    """
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    path = ".".join(str(p) for p in loc)
    owner, info = _locate(loc, Scenario if root is None else root)
    if err["type"] == "extra_forbidden":
        keys = sorted(owner.model_fields) if owner is not None else []
        hint = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        section = ".".join(str(p) for p in loc[:-1]) or "top level"
        return f"{source}: unknown key '{path}'{suggestion} (allowed in {section}: {', '.join(keys)})"
    if err["type"] == "missing":
        return f"{source}: missing required key '{path}'"
    if err["type"] == "value_error":  # a model's own check: its message says what is allowed
        message = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        shown = f" = {given!r}" if not isinstance(given, dict | list) else ""
        return f"{source}: {path or 'top level'}{shown} is invalid: {message}"
    allowed = _allowed(info)
    given = err.get("input")
    given_text = repr(given) if not isinstance(given, dict) else "a table"
    return f"{source}: {path} = {given_text} is invalid: {err['msg'].lower()}; allowed: {allowed or 'see docs'}"


def not_utf8(source: str, exc: UnicodeDecodeError) -> ScenarioError:
    """The one-line error of a file (`source` names it) whose bytes are not UTF-8 text."""
    byte = exc.object[exc.start]
    return ScenarioError(f"{source}: not UTF-8 text (byte {byte:#04x} at {exc.start}); save it as UTF-8")


def read_toml(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file into a dict, resolving `extends` chains (cycles are errors)."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder; give a TOML file")
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found")
    resolved = path.resolve()
    if resolved in _seen:
        raise ScenarioError(f"{path}: 'extends' loops back to a file already being read")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise not_utf8(str(path), exc) from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    raw = _region_table(raw)
    region = raw.get("region")
    if isinstance(region, dict) and isinstance(region.get("files"), str) and region["files"]:
        # A region folder named in a scenario file is relative to that file.
        raw["region"] = {**region, "files": str(path.parent / region["files"])}
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends must be a file name (a string), got {parent!r}")
    return deep_merge(read_toml(path.parent / parent, (*_seen, resolved)), raw)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `dotted.key=value`; the value is read as TOML (numbers, booleans, strings, lists)."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected dotted.key=value")
    key, value = text.split("=", 1)
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ScenarioError(f"--set {text!r}: the key must be dotted names like insurance.resident.outpatient_cap")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return parts, parsed


def _set(data: dict[str, Any], parts: list[str], value: Any, where: str) -> None:
    """Set a dotted key in nested scenario data, creating sections; `where` names it in errors."""
    node = data
    for p in parts[:-1]:
        child = node.get(p)
        if child is None:
            child = node[p] = {}
        elif not isinstance(child, dict):
            raise ScenarioError(f"{where}: '{p}' is a value, not a section")
        node = child
    node[parts[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `--set` overrides to scenario data (a copy); unknown keys are caught by validation."""
    out = deep_merge({}, data)
    for text in overrides:
        parts, value = parse_override(text)
        _set(out, parts, value, f"--set {text!r}")
    return out


def with_values(data: dict[str, Any], values: dict[str, Any], where: str) -> dict[str, Any]:
    """Scenario data (a copy) with dotted keys set to values, e.g. {"choice.cost": -1.5}.

    Args:
        data: Scenario data as read from TOML.
        values: Dotted scenario key → value.
        where: Names the source in error messages (e.g. the experiment file).
    """
    out = deep_merge({}, data)
    for key, value in values.items():
        _set(out, key.split("."), value, f"{where}: {key}")
    return out


def validate(data: dict[str, Any], source: str) -> Scenario:
    """Validate scenario data, turning failures into a one-line `ScenarioError`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(describe_error(exc, source)) from None


def load_scenario(path: str | Path | None = None, overrides: list[str] | None = None) -> Scenario:
    """Load a scenario file (None: the embedded baseline) and apply `--set` overrides.

    Args:
        path: Scenario TOML file, or None for the defaults.
        overrides: `dotted.key=value` strings.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: With a one-line message naming the file, field and allowed range.
    """
    data = read_toml(Path(path)) if path is not None else {}
    source = str(path) if path is not None else "default scenario"
    if overrides:
        source = f"{source} with --set"
        data = apply_overrides(data, overrides)
    return validate(data, source)


def parameter_rows(values: BaseModel | None = None, prefix: str = "") -> list[dict[str, str]]:
    """Every parameter as rows: key, value, unit, allowed range, source, meaning.

    Walks a scenario's values (default: the built-in defaults), so nested blocks whose defaults
    differ from their class's (e.g. `insurance.employee`) show their real values. Used by
    `tiersim params` and for the parameter tables of docs/ODD.md, so the docs cannot drift.
    """
    values = Scenario() if values is None else values
    rows: list[dict[str, str]] = []
    for name, info in type(values).model_fields.items():
        key = f"{prefix}{name}"
        value = getattr(values, name)
        if isinstance(value, BaseModel):
            rows.extend(parameter_rows(value, f"{key}."))
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        rows.append(
            {
                "key": key,
                "default": f"{value:g}" if isinstance(value, float) else str(value),
                "unit": str(extra.get("unit", "")),
                "range": _allowed(info).split(" (")[0],
                "source": str(extra.get("source", "")),
                "meaning": info.description or "",
            }
        )
    return rows
