"""Array helpers: the AR(1) filter held to scipy.signal.lfilter, whose recurrence it runs."""
import numpy as np
import pytest
from scipy.signal import lfilter

from l4station.arrays import ar1


@pytest.mark.parametrize("shape", [(1,), (5000,), (366, 3), (366, 9, 2)])
@pytest.mark.parametrize("stationary_start", [True, False])
def test_ar1_equals_lfilter_bit_for_bit(shape, stationary_start):
    # x_i = a x_(i-1) + sqrt(1 - a^2) e_i is lfilter([gain], [1, -a]) (Box, Jenkins & Reinsel 2008,
    # sec. 3.2.4); a stationary start is x_0 = e_0, then the filter from zi = a e_0.
    e = np.random.default_rng(0).standard_normal(shape)
    a = np.exp(-1.0 / 40.0)
    gain = np.sqrt(1.0 - a * a)
    if stationary_start:
        rest, _ = lfilter([gain], [1.0, -a], e[1:], axis=0, zi=np.asarray(a * e[0])[None, ...])
        expected = np.concatenate([e[:1], rest])
    else:
        expected = lfilter([gain], [1.0, -a], e, axis=0)
    assert np.array_equal(ar1(e, a, stationary_start=stationary_start), expected)
