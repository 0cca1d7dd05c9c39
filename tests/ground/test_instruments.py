"""The simulated instruments: replayed speeds are the real STEREO-A ones, the plasma follows its
cited relations, and impairments land in the stream as declared."""
import numpy as np
import pytest
from astropy.time import Time

from l4station.ground import instruments, packets
from l4station.heliosphere import insitu


@pytest.mark.parametrize("v, t_k", [(300.0, 17_640.0), (400.0, 53_290.0), (600.0, 164_000.0)])
def test_lopez_freeman_temperature(v, t_k):
    """Lopez & Freeman (1986) eq. 5: (0.031 V - 5.1)^2 kK below 500 km/s, 0.51 V - 142 kK above."""
    assert instruments.lopez_freeman_temperature_k(v) == pytest.approx(t_k)


def test_replay_carries_the_real_stereo_a_speeds():
    start = Time("2026-11-20T00:00:00", scale="utc")
    series = instruments.measurements(start, 24, events=False)["plasma"]
    real = insitu.packaged()["L4"].at(Time(instruments.REPLAY_START).mjd + np.arange(24) / 24)
    hourly = series["vr"][::60]
    good = np.isfinite(real)
    assert good.sum() > 12
    assert np.max(np.abs(hourly[good] / real[good] - 1)) < 0.05        # 1 % red noise, 4 sigma
    n = series["density"]
    assert np.median(n * (series["vr"] / 400) ** 2) == pytest.approx(6.5, rel=0.1)   # McGregor et al. 2011


def test_impairments_land_as_declared(two_days):
    start = Time("2026-11-20T00:00:00", scale="utc")
    stream = instruments.simulate(start, 48, impairments=instruments.Impairments(gaps=0.05, duplicates=0.02, reorder=0.01))
    decoded = packets.decode(stream.data)
    total = sum(stream.packets.values())
    assert decoded.valid == total - stream.impaired["dropped"] + stream.impaired["duplicated"]
    assert 0.03 < stream.impaired["dropped"] / total < 0.08
    assert sum(decoded.rejected.values()) == 0
    with pytest.raises(ValueError, match="--gaps"):
        instruments.simulate(start, 1, impairments=instruments.Impairments(gaps=2.0))
