"""Every docstring example in the installed package runs and prints what it shows (STYLE.md, 4);
every module but those in ``NO_EXAMPLE`` must show at least one."""
import doctest
import importlib
import pkgutil

import pytest

import l4station

MODULES = sorted(m.name for m in pkgutil.walk_packages(l4station.__path__, "l4station.")
                 if not m.name.endswith("__main__"))

# Every module shows at least one checked example but these: packages (their __init__), the
# command line (its tests run each command), the report's sections and page (their tests run
# whole studies), the server (its routes are tested over HTTP) and the Dask cluster (a test
# starts one).
NO_EXAMPLE = frozenset({
    "l4station.comms", "l4station.comms.dtn", "l4station.ground", "l4station.heliosphere", "l4station.missions",
    "l4station.orbit", "l4station.radiation", "l4station.study", "l4station.study.sections",
    "l4station.cli", "l4station.cli.common", "l4station.cli.delivery", "l4station.cli.design",
    "l4station.cli.forecast", "l4station.cli.operations", "l4station.cli.radiation",
    "l4station.study.figures", "l4station.study.report", "l4station.study.study",
    "l4station.study.sections.communications", "l4station.study.sections.delivery",
    "l4station.study.sections.geometry", "l4station.study.sections.mission", "l4station.study.sections.radiation",
    "l4station.study.sections.spaceweather", "l4station.study.sections.stability",
    "l4station.study.sections.transfer",
    "l4station.ground.server", "l4station.cluster",
})


@pytest.mark.slow
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name not in NO_EXAMPLE:
        assert result.attempted > 0, f"{name} has no docstring example"


def test_every_module_is_checked_or_named_as_without_examples():
    assert NO_EXAMPLE <= set(MODULES), sorted(NO_EXAMPLE - set(MODULES))

