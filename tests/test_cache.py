"""The cache of slow parts: a cached study is the study; a variant reuses exactly the parts whose
inputs it shares; a damaged or shared cache never gives a wrong result; the user's own cache keeps
the ITU-R attenuation every command needs."""
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l4station import cache, config
from l4station.cli import main
from l4station.study import study
from l4station.cache import Cache

SMALL = Path(__file__).parent / "data" / "small-trade.toml"


def _variant(tmp_path: Path, name: str, text: str) -> config.MissionConfig:
    path = tmp_path / f"{name}.toml"
    path.write_text(SMALL.read_text() + text)
    return config.load(path)


@pytest.fixture(scope="module")
def warm(tmp_path_factory, small_study):
    """A cache filled by one study of the small mission, and that study's document."""
    folder = tmp_path_factory.mktemp("cache")
    result = study.run(config.load(SMALL), cache=Cache(folder))
    return folder, result.document, small_study[0].document


@pytest.mark.slow
def test_a_study_through_its_cache_is_the_study_without_one(warm):
    folder, cached, uncached = warm
    assert cached == uncached
    kinds = sorted(p.name.rsplit("-", 1)[0] for p in folder.glob("*.pickle"))
    assert kinds == ["delivery", "osse", "osse-real", "sep-skill", "stay", "transfer", "visibility"]


@pytest.mark.slow
def test_a_second_study_reads_every_slow_part(warm):
    folder, cached, _ = warm
    before = {p: p.stat().st_ino for p in folder.glob("*.pickle")}
    again = study.run(config.load(SMALL), cache=Cache(folder))
    assert again.document == cached
    assert {p: p.stat().st_ino for p in folder.glob("*.pickle")} == before     # nothing written again (a write renames a new file in)


@pytest.mark.slow
def test_a_link_variant_recomputes_only_the_link_side(warm, tmp_path):
    folder, _, _ = warm
    cache = Cache(folder)
    context = study.StudyContext(_variant(tmp_path, "margin", "\n[link]\nrequired_margin_db = 6.0\n"), cache)
    context.transfer, context.stay, context.osse, context.contacts
    assert (cache.hits, cache.misses) == (4, 0)                  # trade, stay, forecast experiment, visibility


def test_a_terminal_variant_reads_the_visibility(warm, tmp_path):
    folder, _, _ = warm
    cache = Cache(folder)
    context = study.StudyContext(_variant(tmp_path, "power", "\n[spacecraft.rf]\npower_w = 40.0\n"), cache)
    plan = context.contacts
    assert (cache.hits, cache.misses) == (1, 0)                  # the visibility read
    # and the plan made from it is the variant's: the passes' capacity scales as the power (link equation)
    base = study.StudyContext(config.load(SMALL), cache)
    ratio = 40.0 / base.config.spacecraft.rf.power_w
    assert plan.daily_capacity_gbit() / base.contacts.daily_capacity_gbit() == pytest.approx(ratio, rel=1e-6)


def test_a_latency_variant_reuses_the_real_data_forecasts(warm, tmp_path):
    folder, _, _ = warm
    cache = Cache(folder)
    context = study.StudyContext(_variant(tmp_path, "late", "\n[forecast.latency_hours]\nL4 = 24.0\n"), cache)
    cases = context.osse.cases
    assert (cache.hits, cache.misses) == (1, 1)                  # the real part read; the synthetic run computed
    base = study.StudyContext(config.load(SMALL), cache).osse.cases
    real = [c.to_json() for c in cases if c.source == "real"]
    assert real == [c.to_json() for c in base if c.source == "real"] and len(real) > 0
    assert [c.to_json() for c in cases if c.source == "synthetic"] != [c.to_json() for c in base if c.source == "synthetic"]


def test_a_damaged_entry_is_computed_again(warm, tmp_path):
    folder, _, _ = warm
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in folder.glob("stay-*.pickle"):
        (copy / p.name).write_bytes(p.read_bytes()[:100])      # truncated, as by a full disk
    cache = Cache(copy)
    stay = study.StudyContext(config.load(SMALL), cache).stay
    assert cache.misses == 1
    fresh = study.StudyContext(config.load(SMALL)).stay
    assert np.array_equal(stay.trajectory.position, fresh.trajectory.position)
    entry = next(copy.glob("stay-*.pickle")).read_bytes()           # and replaced by a whole one
    assert np.array_equal(pickle.loads(entry.partition(b"\n")[2]).trajectory.position, fresh.trajectory.position)


def test_a_flipped_bit_or_a_misplaced_entry_is_never_read(warm, tmp_path):
    """The checksum covers an entry's name and bytes: one bit flipped in a stored number, or the
    stay's entry copied over the trade's, is computed again, never read as a result."""
    folder, _, _ = warm
    copy = tmp_path / "copy"
    copy.mkdir()
    (stay,) = folder.glob("stay-*.pickle")
    data = bytearray(stay.read_bytes())
    data[-40] ^= 0x10
    (copy / stay.name).write_bytes(bytes(data))
    cache = Cache(copy)
    study.StudyContext(config.load(SMALL), cache).stay
    assert (cache.hits, cache.misses) == (0, 1)
    (transfer,) = folder.glob("transfer-*.pickle")
    (copy / transfer.name).write_bytes(stay.read_bytes())
    assert cache._read(copy / transfer.name) == (False, None)


def _fill(folder: str, k: int) -> int:
    """Ask for one shared entry; each computation leaves a mark and takes a while."""
    import time

    def slow():
        (Path(folder) / f"computed-{k}").touch()
        time.sleep(1.0)
        return np.full(2_000_000, 7.0)
    return Cache(Path(folder) / "cache").get("big", ("shared",), slow).shape[0]


@pytest.mark.slow
def test_processes_asking_for_one_entry_at_once_compute_it_once(tmp_path):
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        sizes = pool.starmap(_fill, [(str(tmp_path), k) for k in range(6)])
    assert sizes == [2_000_000] * 6
    assert len(list(tmp_path.glob("computed-*"))) == 1          # the others waited and read it
    (entry,) = (tmp_path / "cache").glob("big-*.pickle")
    assert not list((tmp_path / "cache").glob(".*partial"))
    assert np.all(pickle.loads(entry.read_bytes().partition(b"\n")[2]) == 7.0)


def test_a_cache_folder_that_cannot_be_written_stops_the_study_with_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as done:
        main(["study", "--config", str(SMALL), "--out", str(tmp_path / "out"), "--cache", str(blocker / "sub")])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and len(err.splitlines()) == 1 and "--cache" in err and "writable" in err


_ATMOSPHERE = """
import json, sys
from l4station.comms import rf
atm = rf.atmosphere_db(40.4316, -4.2486, 834.0, "Ka", (10.0, 20.0, 45.0), 0.99, 34.0)
print(json.dumps({"atm": atm.tolist(), "itur": "itur" in sys.modules}))
"""


def _atmosphere_in_a_new_process(folder: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _ATMOSPHERE], env={**os.environ, "L4STATION_CACHE": folder},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.slow
def test_the_user_cache_keeps_the_itu_attenuation_for_the_next_command(tmp_path):
    """ITU-R P.618 attenuation at Madrid in Ka band: the second process reads it from the user's
    cache without loading itur's maps, bit for bit what itur gives with no cache."""
    first = _atmosphere_in_a_new_process(str(tmp_path))
    second = _atmosphere_in_a_new_process(str(tmp_path))
    uncached = _atmosphere_in_a_new_process("")
    assert first["itur"] and not second["itur"] and uncached["itur"]
    assert second["atm"] == first["atm"] == uncached["atm"]
    assert len(list(tmp_path.glob("itu-atmosphere-*.pickle"))) == 1


def test_no_user_cache_where_it_cannot_be_written(tmp_path, monkeypatch, capsys):
    # a folder the user named that cannot be used is said in one line (it was silent); an empty
    # value asks for no cache and says nothing
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for value, expected, said in ((str(blocker / "sub"), None, 1), ("", None, 0),
                                  (str(tmp_path / "kept"), tmp_path / "kept", 0)):
        monkeypatch.setenv("L4STATION_CACHE", value)
        cache.shared.cache_clear()
        found = cache.shared()
        assert (found.directory if found else None) == expected
        err = capsys.readouterr().err
        assert len(err.splitlines()) == said and (not said or "L4STATION_CACHE: cache folder" in err), err
    cache.shared.cache_clear()


def test_a_capped_cache_removes_the_entries_used_least_recently(tmp_path):
    # four 1,000-byte entries under a 3,500-byte cap: writing the fourth removes the one whose
    # last use is oldest ("b": "a" was read again after it), never the entry just written, and
    # its lock file with it (lock files had piled up, one per entry ever made)
    import time as time_module
    capped = Cache(tmp_path, max_bytes=3500)
    for name in "abc":
        capped.get("blob", (name,), lambda: bytes(1000))
    old = time_module.time() - 100
    for k, name in enumerate("abc"):
        os.utime(capped.path("blob", (name,)), (old + k, old + k))
    capped.get("blob", ("a",), lambda: pytest.fail("a is kept: read, not computed"))     # its use is now
    capped.get("blob", ("d",), lambda: bytes(1000))
    assert {name for name in "abcd" if capped.path("blob", (name,)).exists()} == {"a", "c", "d"}
    assert sorted(p.stem for p in tmp_path.glob("*.lock")) == sorted(p.stem for p in tmp_path.glob("*.pickle"))
    assert pickle.loads(pickle.dumps(capped)).max_bytes == 3500                      # as a worker opens it


def test_eviction_removes_only_its_own_entries(tmp_path):
    # A user's own pickles and a folder named like one sat in the cache folder: eviction deleted
    # the first, and stopped every study on the second ("Is a directory").
    import time as time_module
    old = time_module.time() - 1000
    mine = tmp_path / "my-results.pickle"
    mine.write_bytes(pickle.dumps({"my": "data"}))
    (tmp_path / "olddir.pickle").mkdir()
    (tmp_path / f"transfer-{'0' * 32}.pickle").mkdir()
    for path in tmp_path.iterdir():
        os.utime(path, (old, old))
    capped = Cache(tmp_path, max_bytes=1500)
    for name in "abc":
        capped.get("blob", (name,), lambda: bytes(1000))
    assert mine.read_bytes() == pickle.dumps({"my": "data"})
    assert (tmp_path / "olddir.pickle").is_dir() and (tmp_path / f"transfer-{'0' * 32}.pickle").is_dir()
    assert [name for name in "abc" if capped.path("blob", (name,)).exists()] == ["c"]


@pytest.mark.slow
def test_the_study_command_keeps_its_slow_parts_in_the_users_cache(tmp_path):
    # A second `l4station study` of the same mission reads every slow part back from the user's
    # cache (no entry rewritten: the same files) and writes the same study.json; with the cache
    # set empty, nothing is kept and the study is the same.
    kept = tmp_path / "user-cache"

    def run(folder: str, out: str) -> dict:
        subprocess.run([sys.executable, "-m", "l4station", "study", "--config", str(SMALL), "--out", str(tmp_path / out)],
                       check=True, capture_output=True, env={**os.environ, "L4STATION_CACHE": folder})
        return json.loads((tmp_path / out / "study.json").read_text())

    first = run(str(kept), "one")
    entries = {p: p.stat().st_ino for p in kept.glob("*.pickle")}
    assert {p.name.split("-")[0] for p in entries} >= {"transfer", "stay", "visibility", "osse", "delivery"}
    assert run(str(kept), "two") == first
    assert {p: p.stat().st_ino for p in kept.glob("*.pickle")} == entries
    assert run("", "three") == first
