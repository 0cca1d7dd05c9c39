"""Mission config: the default loads, files merge over it, and every bad file is refused in one line."""
from datetime import datetime, timezone

import astropy.units as u
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
    assert str(err) == f"{path}: {field}: {err.problem}"
    assert "\n" not in str(err)


@settings(max_examples=60, deadline=None)
@given(end_hours=st.floats(-72.0, 72.0), start_hours=st.floats(-72.0, 72.0), which=st.sampled_from(["end", "start"]))
def test_the_de421_span_check_is_astropy_s_at_both_ends(end_hours, start_hours, which):
    # Missions ending (or launching) within three days of DE421's ends are accepted exactly when
    # astropy's Time comparison with the kernel's span (TDB) says they lie inside it.
    import copy
    from datetime import timedelta
    from astropy.time import Time
    from l4station import ephemeris
    start, stop = ephemeris.coverage()
    document = copy.deepcopy(config.document(None))
    if which == "end":
        epoch = stop.utc.to_datetime(timezone.utc) + timedelta(hours=end_hours) - timedelta(days=365.25)
        document["mission"] |= {"epoch": epoch, "duration_years": 1.0}
        document["mission"]["launch"] = {"earliest": epoch - timedelta(days=400), "latest": epoch - timedelta(days=60)}
        inside = Time(epoch, scale="utc") + 1.0 * u.yr <= stop
    else:
        earliest = (start.utc.to_datetime(timezone.utc) + timedelta(hours=start_hours)).replace(microsecond=0)
        document["mission"] |= {"epoch": earliest + timedelta(days=800), "duration_years": 1.0}
        document["mission"]["launch"] = {"earliest": earliest, "latest": earliest + timedelta(days=300)}
        inside = Time(earliest, scale="utc") >= start
    if inside:
        config.parse(document, "edge")
    else:
        with pytest.raises(config.ConfigError, match="inside DE421's span"):
            config.parse(document, "edge")


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
