"""Nothing is downloaded at run time: ephemeris from the skyfield-data wheel, IERS tables
from astropy-iers-data; and importing l4station changes none of its host's settings."""
import subprocess
import sys

import astropy.utils.data
import astropy.units as u
from astropy.time import Time

from l4station import ephemeris
from l4station.comms import visibility


def test_importing_l4station_leaves_astropy_settings_alone():
    code = ("from astropy.utils import iers; before = (iers.conf.auto_download, iers.conf.auto_max_age); "
            "import l4station, l4station.cli, l4station.study.study; "
            "assert (iers.conf.auto_download, iers.conf.auto_max_age) == before, before")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_study_and_earth_orientation_attempt_no_download(small_study, monkeypatch, no_network):
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise OSError(f"download attempted: {url}")

    monkeypatch.setattr(astropy.utils.data, "download_file", refuse)
    assert small_study[2] == []          # the whole study ran with downloads refused
    ephemeris.position("earth", Time("2031-01-01") + [0, 1] * u.yr)
    # UT1 (station geometry) comes from the shipped IERS-A table, past its end too.
    assert visibility.ut1(Time(["2026-06-01", "2040-01-01"])).jd.shape == (2,)
    assert calls == [] and no_network == []
