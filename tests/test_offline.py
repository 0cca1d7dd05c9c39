"""Nothing is downloaded at run time: ephemeris from the skyfield-data wheel, IERS tables
from astropy-iers-data; and importing l4station changes none of its host's settings."""
import subprocess
import sys

import astropy.utils.data
import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from l4station import ephemeris
from l4station.comms import visibility


@pytest.mark.slow
def test_importing_l4station_leaves_astropy_settings_alone():
    code = ("from astropy.utils import iers; before = (iers.conf.auto_download, iers.conf.auto_max_age); "
            "import l4station, l4station.cli, l4station.study.study; "
            "assert (iers.conf.auto_download, iers.conf.auto_max_age) == before, before")
    subprocess.run([sys.executable, "-c", code], check=True)


IMPORT_EVERYTHING = """
import logging, pkgutil, importlib, warnings
import numpy as np
import ccsdspy, cfdppy, hapiclient, urllib3       # the libraries whose loggers l4station quiets, set up as they set themselves
def snapshot():
    levels = {name: log.level for name, log in logging.root.manager.loggerDict.items() if isinstance(log, logging.Logger)}
    return list(warnings.filters), logging.root.manager.disable, logging.root.level, np.geterr(), levels
before = snapshot()
import l4station
names = [m.name for m in pkgutil.walk_packages(l4station.__path__, "l4station.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
assert len(names) > 80, names
after = snapshot()
assert after[:4] == before[:4], (after[:4], before[:4])
changed = {k: (v, after[4].get(k)) for k, v in before[4].items() if after[4].get(k) != v}
assert not changed, changed
"""


@pytest.mark.slow
def test_importing_every_module_leaves_warnings_and_logging_alone():
    # found when the package filtered ERFA's warnings for its host and left two libraries'
    # loggers at ERROR; the study and the command now quiet them only while they run
    subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], check=True)


@pytest.mark.slow
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


FAKE_TODAY = """
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args[:2])
    raise OSError("network refused by the test")
socket.getaddrinfo = refuse
socket.socket.connect = lambda self, address: refuse(address)
from astropy.time import Time
import astropy.utils.iers.iers as iers
iers.LeapSeconds._today = staticmethod(lambda: Time(sys.argv[1], scale="tai"))
from l4station.cli import main
try:
    main(sys.argv[2:])
finally:
    sys.stderr.write(f"network attempts: {attempts}\\n")
"""


@pytest.mark.slow
@pytest.mark.parametrize("today", ["2027-03-01", "2027-09-01"])
def test_the_command_never_fetches_leap_seconds_as_the_table_ages(today):
    # The shipped leap-second table expires 2027-06-28 (IERS Bulletin C); astropy asks for a new one
    # from 150 days before. The command reads the shipped one, without a word, before and after.
    run = subprocess.run([sys.executable, "-c", FAKE_TODAY, today, "contacts", "--days", "1", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines() == ["network attempts: []"]


def test_ut1_past_the_bulletin_b_rows_equals_astropys():
    # UT1 - UTC from the IERS-A rows alone, interpolated as astropy does; dates that need a Bulletin
    # B row are left to astropy (None).
    from l4station import offline

    for start in ("2026-12-01", "2027-10-20", "2031-01-01"):
        t = Time(start, scale="utc") + np.arange(0, 400 * 24) * u.hour
        with offline.settings():
            assert np.array_equal(offline.ut1_minus_utc(t.jd1, t.jd2), t.delta_ut1_utc), start
            fast, slow = visibility.ut1(t.tt), t.tt.ut1
        assert np.array_equal(fast.jd1, slow.jd1) and np.array_equal(fast.jd2, slow.jd2), start
    old = Time("2016-12-31", scale="utc") + np.arange(3) * u.day
    assert offline.ut1_minus_utc(old.jd1, old.jd2) is None


def test_quieting_a_logger_from_many_threads_gives_its_level_back():
    # found when two threads decoding at once left ccsdspy's logger at ERROR: the first saved the
    # host's level, the second saved the first's ERROR and restored that last
    import logging
    import threading
    import time

    from l4station import logs
    log = logging.getLogger("a.library.in.threads")
    log.setLevel(logging.INFO)
    start = threading.Barrier(8)

    def work():
        start.wait()
        for _ in range(20):
            with logs.quieted("a.library.in.threads"):
                time.sleep(0.001)                  # the blocks overlap

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.level == logging.INFO
