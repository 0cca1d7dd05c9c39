"""Nothing is downloaded at run time: ephemeris from the skyfield-data wheel, IERS tables
from astropy-iers-data, astropy's auto-download switched off on import."""
from pathlib import Path

import astropy.utils.data
import astropy.units as u
from astropy.time import Time
from astropy.utils import iers

import l4station
from l4station import config, ephemeris
from l4station.study import study


def test_importing_l4station_turns_astropy_downloads_off():
    assert l4station.__version__
    assert iers.conf.auto_download is False


def test_study_and_earth_orientation_attempt_no_download(monkeypatch, no_network):
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise OSError(f"download attempted: {url}")

    monkeypatch.setattr(astropy.utils.data, "download_file", refuse)
    study.run(config.load(Path(__file__).parent / "data" / "small-trade.toml"))
    ephemeris.position("earth", Time("2031-01-01") + [0, 1] * u.yr)
    # UT1 (needed by later ground-station geometry) comes from the shipped IERS-A table.
    Time("2026-06-01").ut1
    assert calls == [] and no_network == []
