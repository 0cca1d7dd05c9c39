"""Every docstring example in the installed package runs and prints what it shows (STYLE.md, 4);
the modules listed in ``REQUIRE_EXAMPLES`` must show at least one."""
import doctest
import importlib
import pkgutil

import pytest

import l4station

MODULES = sorted(m.name for m in pkgutil.walk_packages(l4station.__path__, "l4station.")
                 if not m.name.endswith("__main__"))

# Modules whose docstrings must hold at least one checked example (the rest join as they get one).
REQUIRE_EXAMPLES = frozenset({
    "l4station.arrays", "l4station.geometry", "l4station.ephemeris", "l4station.constants",
    "l4station.schema", "l4station.limits",
    "l4station.orbit.cr3bp", "l4station.orbit.kepler", "l4station.orbit.lambert", "l4station.orbit.propagation",
    "l4station.comms.stations", "l4station.comms.visibility",
    "l4station.heliosphere.cme", "l4station.heliosphere.connectivity", "l4station.heliosphere.insitu",
    "l4station.heliosphere.observers", "l4station.heliosphere.solarwind", "l4station.radiation.events",
    "l4station.ground.alerts", "l4station.ground.export", "l4station.ground.hapi",
    "l4station.ground.instruments", "l4station.ground.packets", "l4station.ground.store",
    "l4station.records", "l4station.tables", "l4station.errors", "l4station.offline", "l4station.config",
    "l4station.comms.rf", "l4station.comms.optical", "l4station.comms.relay", "l4station.comms.survey",
    "l4station.comms.contacts", "l4station.orbit.transfer", "l4station.orbit.stationkeeping",
    "l4station.heliosphere.corotation", "l4station.heliosphere.osse", "l4station.ground.ingest",
    "l4station.study.inputs", "l4station.radiation.transport", "l4station.radiation.spectra", "l4station.radiation.dose",
    "l4station.radiation.sep",
})


@pytest.mark.slow
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in REQUIRE_EXAMPLES:
        assert result.attempted > 0, f"{name} has no docstring example"

