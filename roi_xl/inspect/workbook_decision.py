"""Decide on a file the user names: a workbook (its inputs as typed, read and audited first)
or a template (its defaults with overrides)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from roi_xl.decide.decision import Decision, decide
from roi_xl.decide.risk import DRAWS
from roi_xl.errors import InputError
from roi_xl.inspect.reader import WorkbookRead, read_workbook
from roi_xl.model import engine
from roi_xl.model.template import SCENARIOS, load


def decide_from(
    source: str | Path,
    base: str | None = None,
    overrides: Mapping[str, float] | None = None,
    seed: int = 0,
    draws: int = DRAWS,
    correlation: Mapping[str, float] | None = None,
) -> Decision:
    """Decide from a workbook (its inputs as typed, its selected scenario by default) or
    from a template (its defaults with ``overrides``, the realistic scenario by default)."""
    if Path(source).suffix.lower() == ".xlsx":
        if overrides:
            raise InputError("--set applies to a template; edit the workbook's Inputs instead")
        read = read_workbook(source)
        if read.invalid_inputs:
            bad = read.invalid_inputs[0]
            raise InputError(
                f"{source}: {bad.sheet}!{bad.cell}: {bad.message} Allowed: {bad.expected}; "
                f"found {bad.found} (rule {bad.rule})"
            )
        decision = decide_read(read, base, seed, draws, correlation)
        if decision is None:
            raise InputError(
                f"{source}: an input is not a number; `roi-xl audit {source}` says which"
            )
        return decision
    model = load(source)
    scenarios = {s: engine.scenario_inputs(model, s, overrides) for s in SCENARIOS}
    return decide(model, scenarios, base or "realistic", seed, draws, None, correlation)


def decide_read(
    read: WorkbookRead,
    base: str | None = None,
    seed: int = 0,
    draws: int = DRAWS,
    correlation: Mapping[str, float] | None = None,
) -> Decision | None:
    """Decide from what a workbook holds (None when an input is not a number or not a
    valid one); the
    break-evens the reader found are reused when the base is the workbook's selected one."""
    scenarios = read.scenario_inputs()
    if scenarios is None or read.invalid_inputs:
        return None
    selected = read.selected_scenario or "realistic"
    base = base or selected
    solved = tuple(b.result for b in read.break_evens) if base == selected else None
    return decide(read.model, scenarios, base, seed, draws, solved or None, correlation)
