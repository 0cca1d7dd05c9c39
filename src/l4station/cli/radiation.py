"""Radiation safety commands: an event's dose behind shielding and in each crew scenario."""
from __future__ import annotations

import re
from typing import Annotated

import typer

from l4station.cli.common import JsonOption, UserFacingError, app, emit

DEFAULT_SHIELDS = "0.3,1,5,10,20"
NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _shields(text: str) -> list[float]:
    values = []
    for part in text.split(","):
        try:
            if not NUMBER.fullmatch(part):
                raise ValueError(part)
            value = float(part) + 0.0          # -0 reads as 0
        except ValueError:
            raise UserFacingError(f"--shield: {part.strip()!r} is not a number; give g/cm² of aluminium "
                                  "separated by commas, e.g. 0.3,1,5") from None
        if not (value >= 0 and value <= 1000):
            raise UserFacingError(f"--shield: {part.strip()} g/cm² is outside 0-1000 g/cm²")
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
    and to a crew in each scenario against NASA's 30-day limit."""
    thicknesses = _shields(shield)
    from l4station.radiation import dose, spectra
    emit(dose.assess(spectra.event(event), thicknesses), json_output)
