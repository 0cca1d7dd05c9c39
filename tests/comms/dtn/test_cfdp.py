"""CFDP file delivery with cfdp-py's entities on a simulated clock: a hand count (a
4,000-octet file, 512-octet segments, one lost, completes after three one-way light times), the
library's own 10 s timers never completing over L4's light time, class 1 losing what is lost,
no damaged file ever delivered as complete (property-tested over loss patterns and bit errors),
and the files landing in the archive and listed by the server."""
import json
import zlib

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings, strategies as st

from l4station.cli import main
from l4station.comms.dtn import cfdp
from l4station.errors import InputError
from l4station.ground.server import create_app
from l4station.ground.store import Archive

FILE = bytes((7 * k + k // 256) % 256 for k in range(4000))
OWLT = 500.0


def _lose_down(*indices):
    return lambda direction, k: direction == "down" and k in indices


def test_one_lost_segment_costs_two_more_light_times():
    # 4,000 octets in 512-octet segments: Metadata, 8 file-data PDUs, EOF. Losing the third
    # segment (PDU 3): the receiver NAKs it on the next segment, at 1 OWLT; the NAK reaches the
    # station at 2 OWLT; the resent segment completes the file at 3 OWLT (plus the microseconds
    # a few 4 kbit PDUs take at 1 Mbit/s).
    clean = cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT))
    lossy = cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT, drop=_lose_down(3)))
    (a,), (b,) = clean.deliveries, lossy.deliveries
    assert a.complete and a.received_s == pytest.approx(1 * OWLT, abs=0.1)
    assert b.complete and b.received_s == pytest.approx(3 * OWLT, abs=0.1)
    assert lossy.received["f.bin"] == FILE and b.pdus_down == a.pdus_down + 2     # the segment again, ACK of Finished
    assert a.closed_s == pytest.approx(2 * OWLT, abs=0.1)                        # the Finished PDU's trip back


def test_the_librarys_10_s_timers_never_finish_over_l4s_light_time(monkeypatch):
    # A lost segment: with 10 s timers the receiver's NAKs and the sender's wait for EOF's ACK run
    # out (four expiries each) long before any answer can cross 2 x 500 s.
    monkeypatch.setattr(cfdp, "timers", lambda owlt_s: 10.0)
    (d,) = cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT, drop=_lose_down(3)), horizon_s=20 * OWLT).deliveries
    assert not d.complete
    monkeypatch.undo()
    (d,) = cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT, drop=_lose_down(3))).deliveries
    assert d.complete and cfdp.timers(OWLT) > 2 * OWLT


def test_a_transfer_does_not_depend_on_the_transfers_before_it():
    # cfdp-py 0.7 kept one lost-segment tracker for every transaction of the process: after a
    # lossy transfer a clean one NAKed the old segment and took 3 light times instead of 1, and
    # after an unfinished one a 1-octet file never completed.
    (first,) = cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT)).deliveries
    cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT, drop=_lose_down(3)))
    cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT, drop=_lose_down(3)), horizon_s=1.5 * OWLT)    # cut before the resend
    (again,) = cfdp.deliver({"f.bin": FILE}, cfdp.Link(OWLT)).deliveries
    (tiny,) = cfdp.deliver({"x.bin": b"\x00"}, cfdp.Link(OWLT)).deliveries
    assert again == first and again.received_s == pytest.approx(1 * OWLT, abs=0.1)
    assert tiny.complete and tiny.received_s == pytest.approx(1 * OWLT, abs=0.1)


def test_class_1_does_not_recover_a_lost_segment():
    t = cfdp.deliver({"beacon.bin": FILE}, cfdp.Link(OWLT, drop=_lose_down(3)), acknowledged=False)
    (d,) = t.deliveries
    assert not d.complete and d.pdus_up == 0 and "beacon.bin" not in t.received
    assert cfdp.deliver({"beacon.bin": FILE}, cfdp.Link(OWLT), acknowledged=False).deliveries[0].complete


@settings(max_examples=30, deadline=None)
@given(down=st.sets(st.integers(0, 40), max_size=6), up=st.sets(st.integers(0, 10), max_size=3),
       ber=st.sampled_from([0.0, 1e-4]), seed=st.integers(0, 50), size=st.integers(1, 6000))
def test_no_damaged_file_is_delivered_as_complete(down, up, ber, seed, size):
    content = bytes((seed + 3 * k) % 251 for k in range(size))
    link = cfdp.Link(OWLT, bit_error_rate=ber, seed=seed,
                     drop=lambda direction, k: k in (down if direction == "down" else up))
    t = cfdp.deliver({"x.bin": content}, link)
    (d,) = t.deliveries
    if d.complete:
        assert t.received["x.bin"] == content
    if not down and not up and ber == 0:
        assert d.complete


def test_bad_links_and_names_are_refused():
    for make, message in [(lambda: cfdp.Link(-1.0), "one-way light time -1.0 s"),
                          (lambda: cfdp.Link(OWLT, loss=1.0), "PDU loss 1.0 must be a fraction"),
                          (lambda: cfdp.deliver({"a/b": b"x"}, cfdp.Link(OWLT)), "plain name"),
                          (lambda: cfdp.deliver({"a": b"x"}, cfdp.Link(OWLT), segment_octets=4), "segment length 4")]:
        with pytest.raises(InputError, match=message):
            make()


@pytest.mark.slow
def test_downlinked_files_land_in_the_archive_and_the_server_lists_them(tmp_path, capsys):
    image = tmp_path / "image.fits"
    image.write_bytes(FILE)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(SystemExit) as done:
        main(["downlink", str(image), "--db", url, "--loss", "0.1", "--seed", "2", "--json"])
    assert done.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["complete"] == 1 and doc["files"][0]["received_s"] >= OWLT
    client = TestClient(create_app(url))
    (listed,) = client.get("/api/files").json()["files"]
    assert listed["name"] == "image.fits" and listed["octets"] == 4000 and listed["crc32"] == f"{zlib.crc32(FILE):08x}"
    assert client.get("/api/files/image.fits").content == FILE
    assert client.get("/api/files/none.bin").status_code == 404
    # class 1 over a link that loses half the PDUs: nothing incomplete reaches the archive, exit 1
    beacon = tmp_path / "beacon.bin"
    beacon.write_bytes(FILE)
    with pytest.raises(SystemExit) as done:
        main(["downlink", str(beacon), "--db", url, "--class", "1", "--loss", "0.5", "--seed", "1"])
    assert done.value.code == 1
    assert [f["name"] for f in Archive(url).file_list()] == ["image.fits"]
    for args, message in [([str(tmp_path / "none")], "no file at"), ([str(image), "--light-time", "-5"], "-5")]:
        with pytest.raises(SystemExit) as done:
            main(["downlink", *args, "--db", url])
        assert done.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("drop", [lambda d, k: d == "down" and k == 4,     # the ACK of file 0's Finished
                                  lambda d, k: d == "up" and k == 0,       # the ACK of file 0's EOF
                                  None])
@pytest.mark.parametrize("acknowledged", [True, False])
def test_each_file_of_a_run_gets_its_own_outcome(drop, acknowledged):
    # Files go one after another, each transaction closed at both ends before the next: a lost
    # ACK costs a retry, never the files after it (found when tried as an attacker would).
    files = {f"f{i}": bytes((i + k) % 256 for k in range(1000)) for i in range(4)}
    t = cfdp.deliver(files, cfdp.Link(OWLT, drop=drop if acknowledged else None), acknowledged=acknowledged)
    assert [d.name for d in t.deliveries] == list(files) and all(d.complete for d in t.deliveries)
    assert t.received == files
    assert all(a.received_s < b.received_s for a, b in zip(t.deliveries, t.deliveries[1:]))


def test_a_slow_link_is_given_the_time_its_octets_take():
    big = bytes(k % 251 for k in range(200_000))            # 1.6 Mbit at 1 kbit/s: 1,600 s of sending
    (d,) = cfdp.deliver({"big.bin": big}, cfdp.Link(OWLT, rate_bps=1000.0)).deliveries
    assert d.complete and d.received_s == pytest.approx(OWLT + 1.6e6 / 1000.0, rel=0.05)


@pytest.mark.parametrize("name, message", [("x" * 256, "at most 255"), ("a\nb", "control character"),
                                           ("é" * 128, "at most 255")])
def test_names_cfdp_cannot_carry_are_refused(name, message):
    with pytest.raises(InputError, match=message):
        cfdp.deliver({name: b"x"}, cfdp.Link(OWLT))


@pytest.mark.parametrize("name", ["check✓.txt", 'q"uote.txt', "back\\slash.bin", "spaced name.fits"])
def test_the_server_serves_any_stored_name(tmp_path, name):
    # RFC 6266: an ASCII fallback filename and the UTF-8 name percent-encoded in filename*
    from urllib.parse import quote
    url = f"sqlite:///{tmp_path / 'a.db'}"
    archive = Archive(url, create=True)
    archive.put_file(name, FILE, 0, "test")
    client = TestClient(create_app(url))
    got = client.get(f"/api/files/{quote(name, safe='')}")
    assert got.status_code == 200 and got.content == FILE
    assert f"filename*=UTF-8''{quote(name, safe='')}" in got.headers["content-disposition"]
