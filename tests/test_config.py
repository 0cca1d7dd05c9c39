"""Mission config: the default loads, files merge over it, and every bad file is refused in one line."""
from datetime import datetime, timezone

import astropy.units as u
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from l4station import config


def write(tmp_path, text, name="mission.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_mission_is_an_l4_station():
    c = config.load()
    assert c.mission.target == "L4"
    assert c.mission.epoch == datetime(2031, 1, 1, tzinfo=timezone.utc)
    assert c.spacecraft.dry_mass_kg < c.spacecraft.wet_mass_kg
    names = [s.name for s in c.ground.network]
    assert "KDSA" in names and any(n.startswith("DSS-") for n in names)
    assert c.source.startswith("<default")


def test_file_overrides_merge_over_the_default(tmp_path):
    path = write(tmp_path, '[mission]\ntarget = "L5"\nduration_years = 2.5\n'
                           '[spacecraft.rf]\npower_w = 100\n')
    c = config.load(path)
    assert (c.mission.target, c.mission.duration_years) == ("L5", 2.5)
    assert c.spacecraft.rf.power_w == 100
    assert c.spacecraft.rf.antenna_diameter_m == config.load().spacecraft.rf.antenna_diameter_m
    assert c.source == str(path)


def test_arrays_replace_rather_than_append(tmp_path):
    c = config.load(write(tmp_path, '[ground]\nstations = ["KDSA"]\n'))
    assert [s.name for s in c.ground.network] == ["KDSA"]


def test_resolved_toml_round_trips(tmp_path):
    c = config.load(write(tmp_path, '[mission]\nepoch = 2032-06-01T12:00:00+09:00\n'))
    assert c.mission.epoch == datetime(2032, 6, 1, 3, tzinfo=timezone.utc)
    again = config.load(write(tmp_path, c.to_toml(), "resolved.toml"))
    assert again.to_dict() == c.to_dict() and again.sha256() == c.sha256()


def test_custom_station_can_be_used(tmp_path):
    c = config.load(write(tmp_path, '''
[ground]
stations = ["DSS-34", "Jeju"]
[[ground.custom]]
name = "Jeju"
latitude_deg = 33.3
longitude_deg = 126.5
height_m = 100
diameter_m = 13
bands = ["X"]
'''))
    assert [s.name for s in c.ground.network] == ["DSS-34", "Jeju"]


BAD_FILES = [
    # (what, file text, field named, words in the problem)
    ("unknown key", "[spacecraft]\nwet_mas_kg = 3\n", "spacecraft.wet_mas_kg",
     "unknown key; did you mean 'wet_mass_kg'?"),
    ("unknown table", "[spacecrafts]\nx = 1\n", "spacecrafts", "unknown key; did you mean 'spacecraft'?"),
    ("wrong type", '[mission]\nduration_years = "five"\n', "mission.duration_years",
     "must be a number, not the text 'five': drop the quotes"),
    ("number as text", '[mission]\nduration_years = "3"\n', "mission.duration_years",
     "must be a number, not the text '3': drop the quotes"),
    ("negative mass", "[spacecraft]\ndry_mass_kg = -5\n", "spacecraft.dry_mass_kg",
     "greater than 0 (got -5)"),
    ("dry above wet", "[spacecraft]\ndry_mass_kg = 1500\n", "spacecraft",
     "dry_mass_kg (1500) must be less than wet_mass_kg (1200)"),
    ("unknown station", '[ground]\nstations = ["DSS-14", "DSS-99"]\n', "ground.stations",
     "unknown station 'DSS-99'"),
    ("unknown target", '[mission]\ntarget = "L3"\n', "mission.target", "'L4' or 'L5'"),
    ("unknown band", '[spacecraft.rf]\nbands = ["W"]\n', "spacecraft.rf.bands[0]", "'X' or 'Ka'"),
    ("bad instrument", '[[instruments]]\nname = "mag"\ndata_rate_bps = 0\n', "instruments[0].data_rate_bps",
     "greater than 0"),
    ("missing field", '[[instruments]]\nname = "mag"\n', "instruments[0].data_rate_bps", "missing"),
    ("bad date", '[mission]\nepoch = "someday"\n', "mission.epoch", "valid datetime"),
    ("beyond DE421", "[mission]\nepoch = 2060-01-01T00:00:00\n", "mission", "inside DE421's span"),
    ("year 9999", "[mission]\nepoch = 9999-06-01T00:00:00\n", "mission", "end of mission 9999-12-31 must lie inside"),
    ("ground not a table", "ground = 3\n", "ground", "valid dictionary"),
    ("pass under a step", "[ground]\ntracking_hours_per_day = 0.01\n", "ground",
     "a daily pass of 0.01 h is shorter than the contact plan's 120 s step"),
    ("deaf beacon station", '[ground]\nstations = ["DSS-34", "S"]\ntracking = ["DSS-34"]\nbeacon = ["S"]\n'
     '[[ground.custom]]\nname = "S"\nlatitude_deg = 40\nlongitude_deg = 0\nheight_m = 0\ndiameter_m = 10\n'
     'bands = ["S"]\n', "", "ground.beacon: station 'S' receives S, the spacecraft sends Ka, X"),
    ("deaf tracking station", '[ground]\nstations = ["S"]\n[[ground.custom]]\nname = "S"\nlatitude_deg = 40\n'
     'longitude_deg = 0\nheight_m = 0\ndiameter_m = 10\nbands = ["S"]\n', "",
     "ground.tracking: station 'S' receives S, the spacecraft sends Ka, X; give it a band the spacecraft sends or drop "
     "it from ground.tracking (without ground.tracking, every station tracks)"),
    ("launch after epoch", "[mission.launch]\nearliest = 2031-06-01T00:00:00\nlatest = 2031-07-01T00:00:00\n",
     "mission", "must be before the operations epoch"),
    ("window reversed", "[mission.launch]\nearliest = 2029-06-01T00:00:00\nlatest = 2029-01-01T00:00:00\n",
     "mission.launch", "latest (2029-01-01) must be after earliest (2029-06-01)"),
]


@pytest.mark.parametrize("what, text, field, problem", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_naming_file_field_and_problem(tmp_path, what, text, field, problem):
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    err = info.value
    assert err.source == str(path) and err.field == field
    assert problem in err.problem
    assert str(err) == (f"{path}: {field}: " if field else f"{path}: ") + err.problem
    assert "\n" not in str(err)


@settings(max_examples=80, deadline=None)
@given(hours=st.floats(-72.0, 72.0), which=st.sampled_from(["start", "end", "arrival", "forecast"]))
def test_a_mission_is_accepted_a_day_inside_de421_and_can_then_read_it_past_its_ends(hours, which):
    # Whichever reaches furthest (launch, end of mission, the transfer trade's last arrival, the
    # synthetic forecast run) is put `hours` from a day inside DE421's ends: the mission is
    # accepted exactly when it stays inside, as astropy compares times, and then DE421 is read
    # six hours beyond it (the propagator's reach) without error.
    import copy
    from datetime import timedelta
    from astropy.time import Time
    from hypothesis import assume
    from l4station import ephemeris
    start, stop = ephemeris.coverage()
    low, high = start + 1 * u.day, stop - 1 * u.day
    edge = (low if which == "start" else high).utc.to_datetime(timezone.utc) + timedelta(hours=hours)
    edge = edge.replace(microsecond=0)
    mission = {"duration_years": 0.1 if which == "forecast" else 0.3, "transfer": {"departure_step_days": 10.0, "tof_min_years": 0.1, "tof_max_years": 0.2}}
    if which == "start":
        mission |= {"epoch": edge + timedelta(days=800), "launch": {"earliest": edge, "latest": edge + timedelta(days=300)}}
        reach = Time(edge, scale="utc")
    else:
        epoch = {"end": edge - timedelta(days=0.3 * 365.25), "forecast": edge - timedelta(days=91),
                 "arrival": edge - timedelta(days=200)}[which]
        latest = epoch - timedelta(days=60)
        if which == "arrival":
            mission["transfer"]["tof_max_years"] = (edge - latest).total_seconds() / 86400 / 365.25
        mission |= {"epoch": epoch, "launch": {"earliest": epoch - timedelta(days=400), "latest": latest}}
        reach = Time(edge, scale="utc")
    assume(abs((reach - (low if which == "start" else high)).to_value(u.min)) > 2)   # TDB - UTC: a minute
    document = copy.deepcopy(config.document(None))
    document["mission"] |= mission
    document["forecast"]["synthetic_days"] = 90
    inside = low <= reach if which == "start" else reach <= high
    if not inside:
        with pytest.raises(config.ConfigError, match="must lie inside DE421's span, a day in from its ends"):
            config.parse(document, "edge")
        return
    config.parse(document, "edge")
    beyond = reach + (-6 if which == "start" else 6) * u.hour
    assert np.isfinite(ephemeris.position("earth", beyond).value).all()


def test_unparsable_toml_names_the_line(tmp_path):
    path = write(tmp_path, "[mission\nname = 3\n")
    with pytest.raises(config.ConfigError, match=r"mission.toml: not valid TOML: .*\(at line 1, column 9\)"):
        config.load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(config.ConfigError, match="nope.toml: no such file; give the path of a mission TOML file"):
        config.load(tmp_path / "nope.toml")
    with pytest.raises(config.ConfigError, match="is a directory"):
        config.load(tmp_path)


def test_several_problems_are_counted(tmp_path):
    path = write(tmp_path, "[spacecraft]\ndry_mass_kg = -5\nwet_mass_kg = -6\nisp_s = -1\n")
    with pytest.raises(config.ConfigError, match=r"\(and 2 more problems\)$"):
        config.load(path)


def test_new_network_starts_roles_afresh(tmp_path):
    c = config.load(write(tmp_path, '[ground]\nstations = ["DSS-43", "KDSA"]\n'))
    assert [s.name for s in c.ground.tracking_network] == ["DSS-43", "KDSA"] and c.ground.beacon_network == []


def test_role_outside_the_network_is_refused(tmp_path):
    path = write(tmp_path, '[ground]\nstations = ["DSS-43"]\nbeacon = ["KDSA"]\n')
    with pytest.raises(config.ConfigError, match="ground: beacon: 'KDSA' is not in ground.stations"):
        config.load(path)
