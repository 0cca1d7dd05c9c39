"""Packets against the CCSDS and ECSS standards, astropy/ERFA time and ccsdspy's own readers."""
import io

import ccsdspy.utils
import numpy as np
import pytest
from astropy.time import Time

from l4station.ground import packets


@pytest.mark.parametrize("data, crc", [
    (b"\x00\x00", 0x1D0F), (b"\x00\x00\x00", 0xCC9C), (b"\xAB\xCD\xEF\x01", 0x04A2),
    (b"\x14\x56\xF8\x9A\x00\x01", 0x7FD5),      # ECSS-E-ST-70-41C annex B.1 test vectors
    (b"123456789", 0x29B1),                      # CRC-16/CCITT-FALSE check value (Williams' catalogue)
])
def test_crc16_matches_the_standard_test_vectors(data, crc):
    assert packets.crc16(data) == crc


@pytest.mark.parametrize("utc, tai_minus_utc", [
    ("2026-11-22T12:34:56.789", 37), ("2016-12-31T23:59:59", 36), ("2017-01-01T00:00:00", 37),
    ("1999-01-01T00:00:00", 32), ("2012-06-30T12:00:00.5", 34),
])
def test_cuc_time_is_tai_seconds_since_1958(utc, tai_minus_utc):
    """CCSDS 301.0-B-4 CUC with the recommended epoch, against astropy/ERFA's TAI (IERS Bulletin C
    leap seconds); one fine count is 15.3 us."""
    t = Time(utc, scale="utc")
    expected = (t.tai - Time("1958-01-01T00:00:00", scale="tai")).to_value("s")
    unix_us = int(np.datetime64(utc, "us").astype(np.int64))     # POSIX time: no leap seconds
    coarse, fine = packets.cuc_from_unix_us(unix_us)
    assert abs(int(coarse) + int(fine) / 65536 - expected) < 1 / 65536
    assert float(packets.tai_minus_utc(unix_us / 1e6)) == tai_minus_utc
    assert abs(int(packets.unix_us_from_cuc(coarse, fine)) - unix_us) <= 8    # round trip, half a fine count


def _plasma(n, seq0=0):
    ptype = packets.dictionary()["plasma"]
    rng = np.random.default_rng(3)
    values = {"density": rng.uniform(0.1, 60, n), "vr": rng.uniform(250, 2000, n), "vt": rng.normal(0, 30, n),
              "vn": rng.normal(0, 30, n), "temperature": 10 ** rng.uniform(3.5, 6.3, n), "quality": np.zeros(n)}
    t = 1_795_000_000_000_000 + np.arange(n, dtype=np.int64) * 60_000_000
    return ptype, t, values, packets.encode(ptype, t, seq0 + np.arange(n), values)


@pytest.mark.slow
def test_encoded_headers_follow_the_space_packet_protocol():
    ptype, t, values, rows = _plasma(20_000)
    word0 = rows[:, 0].astype(int) << 8 | rows[:, 1]
    assert np.all(word0 >> 13 == 0) and np.all(word0 >> 12 & 1 == 0)          # version 0, telemetry
    assert np.all(word0 >> 11 & 1 == 1) and np.all(word0 & 0x7FF == ptype.apid)  # secondary header, APID
    word1 = rows[:, 2].astype(int) << 8 | rows[:, 3]
    assert np.all(word1 >> 14 == 3)                                              # unsegmented
    assert np.array_equal(word1 & 0x3FFF, np.arange(20_000) % 16384)            # 14-bit count wraps
    assert np.all((rows[:, 4].astype(int) << 8 | rows[:, 5]) == ptype.octets - 7)
    # ccsdspy's own validator and packet counter accept the stream
    stream = rows.tobytes()
    assert ccsdspy.utils.count_packets(io.BytesIO(stream)) == 20_000
    assert not [w for w in ccsdspy.utils.validate(io.BytesIO(stream)) if "missing" in str(w).lower()]


def test_decode_returns_engineering_values_to_the_resolution():
    ptype, t, values, rows = _plasma(5000)
    decoded = packets.decode(rows.tobytes())
    got = decoded.data["plasma"]
    assert decoded.valid == 5000 and decoded.rejected == {"crc": 0, "length": 0, "apid": 0}
    assert np.array_equal(got["t_us"], t)
    for name, resolution in (("density", 0.01), ("vr", 0.1), ("vt", 0.1)):
        assert np.max(np.abs(got[name] - values[name])) <= resolution / 2 + 1e-9
    # log10 calibration: 1e-4 decades per count -> 0.0116 % relative
    assert np.max(np.abs(got["temperature"] / values["temperature"] - 1)) < 1.2e-4


def test_fill_and_out_of_range_values():
    ptype = packets.dictionary()["plasma"]
    density = ptype.field("density")
    assert np.isnan(packets.decode(packets.encode(ptype, [0], [0], {
        "density": [np.nan], "vr": [5000.0], "vt": [-5000.0], "vn": [0.0], "temperature": [1e5], "quality": [0]
    }).tobytes()).data["plasma"]["density"][0])
    assert density.to_raw([1e9])[0] == density.fill - 1                      # clipped, never the fill


def test_a_bad_packet_never_costs_a_good_one():
    """One bit flipped in a payload (CRC), the APID (unknown APID), the length field (length), and
    garbage between packets: every untouched packet is decoded, each bad one counted once."""
    ptype, t, values, rows = _plasma(400)
    rows = rows.copy()
    rows[10, 15] ^= 0x10                    # payload -> CRC
    rows[20, 1] ^= 0x01                     # APID 0x110 -> 0x111, unknown
    rows[30, 5] ^= 0x04                     # length field
    stream = b"".join([rows[:200].tobytes(), b"\x55" * 13, rows[200:].tobytes()])
    decoded = packets.decode(stream)
    assert decoded.rejected == {"crc": 1, "length": 2, "apid": 1}   # the 13 stray bytes count as one
    good = np.setdiff1d(np.arange(400), [10, 20, 30])
    assert np.array_equal(decoded.data["plasma"]["seq"], good)


def test_a_packet_cut_off_at_the_end_of_a_live_chunk_waits_for_the_rest():
    ptype, t, values, rows = _plasma(10)
    stream = rows.tobytes()
    partial = packets.decode(stream[:110], final=False)
    assert partial.consumed == 4 * ptype.octets and partial.valid == 4 and partial.rejected["length"] == 0
    assert packets.decode(stream[:110], final=True).rejected["length"] == 1


@pytest.mark.slow
def test_importing_packets_leaves_the_hosts_logging_alone():
    """A library must not change its host's logging: a program that disabled WARNING and below
    keeps that setting after importing the packet module (which quiets ccsdspy's import banner)."""
    import subprocess
    import sys
    code = ("import logging; logging.disable(logging.WARNING); import l4station.ground.packets; "
            "print(logging.root.manager.disable)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "30" and "CCSDSPy" not in out.stderr, out.stderr[-500:]   # logging.WARNING


def test_whole_packets_locates_every_packet_as_decode_reads_it():
    """Offsets tile a clean stream end to end, and each packet's time (read from its CUC bytes)
    is the time decode gives it (CCSDS 301.0-B-4 CUC, same conversion)."""
    from astropy.time import Time
    from l4station.ground import instruments
    data = instruments.simulate(Time("2026-11-20T00:00:00", scale="utc"), 3.0).data
    found, decoded = packets.whole_packets(data), packets.decode(data)
    assert found.start[0] == 0 and np.array_equal(found.stop[:-1], found.start[1:]) and found.stop[-1] == len(data)
    for p in packets.dictionary().values():
        assert np.array_equal(found.t_us[found.apid == p.apid], decoded.data[p.name]["t_us"])
    damaged = data[:100] + b"\x00" + data[100:]
    assert len(packets.whole_packets(damaged).start) == decoded.valid - 1
