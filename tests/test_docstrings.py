"""Every docstring example in the installed package runs and prints what it shows (STYLE.md, 4)."""
import doctest
import importlib
import pkgutil

import pytest

import l4station

MODULES = sorted(m.name for m in pkgutil.walk_packages(l4station.__path__, "l4station.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
