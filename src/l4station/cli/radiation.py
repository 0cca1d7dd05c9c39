"""Radiation safety commands: an event's dose behind shielding and in each crew scenario."""
from __future__ import annotations

import math
from typing import Annotated

import typer

from l4station.cli.common import JsonOption, UserFacingError, app, emit

DEFAULT_SHIELDS = "0.3,1,5,10,20"
MAX_SHIELDS = 1000
MAX_SHIELD_GCM2 = 1000.0


def _shields(text: str) -> list[float]:
    from l4station.errors import plain_number

    parts = text.split(",")
    if len(parts) > MAX_SHIELDS:
        raise UserFacingError(f"--shield: {len(parts):,} thicknesses given, at most {MAX_SHIELDS:,}")
    values = []
    for position, part in enumerate(parts, 1):
        item = part.strip()
        if not item:
            raise UserFacingError(f"--shield: thickness {position} of {len(parts)} is empty; give g/cm² of aluminium "
                                  "separated by commas, e.g. 0.3,1,5")
        try:
            value = plain_number(item) + 0.0           # -0 reads as 0
        except ValueError:
            raise UserFacingError(f"--shield: {item!r} is not a number; give g/cm² of aluminium in plain digits "
                                  "separated by commas, e.g. 0.3,1,5") from None
        if not math.isfinite(value):
            raise UserFacingError(f"--shield: {item!r} is not a finite number in 0-{MAX_SHIELD_GCM2:g} g/cm²")
        if not 0 <= value <= MAX_SHIELD_GCM2:
            raise UserFacingError(f"--shield: {item} g/cm² is outside 0-{MAX_SHIELD_GCM2:g} g/cm²")
        values.append(value)
    return values


@app.command()
def radiation(event: Annotated[str, typer.Option(
                  "--event", help="king1972, sapphire-1in10, sapphire-1in100, sapphire-1in1000, or a file of "
                                  "'energy_MeV fluence_above_cm2' rows.")] = "king1972",
              shield: Annotated[str, typer.Option(
                  "--shield", help="Aluminium thicknesses (g/cm²), separated by commas.")] = DEFAULT_SHIELDS,
              json_output: JsonOption = False):
    """Dose from a solar proton event to skin, eye lens and blood-forming organs behind aluminium,
    and to a crew in each scenario against NASA's 30-day and career limits."""
    thicknesses = _shields(shield)
    from l4station.radiation import dose, spectra
    emit(dose.assess(spectra.event(event), thicknesses), json_output)
