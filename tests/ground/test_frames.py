"""CCSDS TM transfer frames: spacepackets (an independent CCSDS implementation) reads every frame
we write; the receiver gets back every packet whose frames arrived intact and nothing else, however
the frames are damaged or lost (property-tested); and the command line writes and ingests them."""
import functools
import json

import numpy as np
import pytest
from astropy.time import Time
from hypothesis import HealthCheck, given, settings, strategies as st
from spacepackets.ccsds.tm_frame import TmTransferFrame

from l4station.cli import main
from l4station.ground import frames, instruments, packets


@functools.cache
def _day():
    stream = instruments.simulate(Time("2024-01-01"), 6.0).data
    return stream, frames.station_frames(stream)


@pytest.fixture
def day():
    return _day()


def _parse(framed: bytes):
    """Frames as spacepackets reads them: (vc, vc count, first header pointer, data field)."""
    out = []
    for k in range(0, len(framed), frames.CADU_OCTETS):
        assert framed[k:k + 4] == frames.ASM
        f = TmTransferFrame.unpack(framed[k + 4:k + frames.CADU_OCTETS], frames.FRAME_OCTETS, True)  # checks the CRC
        h = f.primary_header
        assert h.master_channel_id.spacecraft_id == frames.SPACECRAFT_ID and h.master_channel_id.transfer_frame_version == 0
        assert h.master_ch_frame_count == (k // frames.CADU_OCTETS) % 256
        out.append((h.vc_id, h.vc_frame_count, h.frame_datafield_status.first_header_pointer, f.data_field))
    return out


def _packet_frames(parsed):
    """Each real packet (bytes) and the frame indices its bytes lie in, rebuilt from what
    spacepackets read: per virtual channel, the data fields back to back, cut at the lengths."""
    out = []
    for vc in {p[0] for p in parsed} - {frames.VC_IDLE}:
        mine = [(i, p) for i, p in enumerate(parsed) if p[0] == vc]
        assert [p[1] for _, p in mine] == [k % 256 for k in range(len(mine))]
        data = b"".join(p[3] for _, p in mine)
        owner = np.repeat([i for i, _ in mine], frames.DATA_OCTETS)
        assert mine[0][1][2] == 0                                   # the first frame starts with a packet
        i = 0
        while i + 6 <= len(data):
            total = ((data[i + 4] << 8) | data[i + 5]) + 7
            k, j = i // frames.DATA_OCTETS, (i + total - 1) // frames.DATA_OCTETS
            for m in range(k + 1, j + 1):                           # a frame it continues into points past it
                pointer = mine[m][1][2]
                assert pointer == frames.NO_PACKET_START or m * frames.DATA_OCTETS + pointer >= i + total
            if ((data[i] & 7) << 8 | data[i + 1]) != frames.IDLE_APID:
                out.append((data[i:i + total], set(owner[i:i + total].tolist())))
            i += total
    return out


def test_spacepackets_reads_every_frame_and_the_packets_are_all_there(day):
    stream, framed = day
    parsed = _parse(framed)
    carried = _packet_frames(parsed)
    assert sorted(p for p, _ in carried) == sorted(stream[a:b] for a, b in
                                                   zip(*(lambda w: (w.start, w.stop))(packets.whole_packets(stream))))
    assert any(p[0] == frames.VC_IDLE and p[2] == frames.IDLE_DATA for p in parsed)
    assert any(len(f) > 1 for _, f in carried)                      # some packets do span frames
    decoded = frames.FrameStream().push(framed, final=True)
    assert decoded.valid == len(carried) and decoded.frames["damaged"] == decoded.frames["lost"] == 0


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_lost_or_damaged_frame_costs_only_the_packets_in_it(data):
    stream, framed = _day()
    parsed = _parse(framed)
    carried = _packet_frames(parsed)
    n = len(parsed)
    hurt = data.draw(st.sets(st.integers(0, n - 1), max_size=12))
    dropped = data.draw(st.sets(st.integers(0, n - 1), max_size=6))
    buf = bytearray()
    for i in range(n):
        cadu = bytearray(framed[i * frames.CADU_OCTETS:(i + 1) * frames.CADU_OCTETS])
        if i in dropped:
            continue
        if i in hurt:                                   # bit errors inside the frame, never in its marker
            for bit in data.draw(st.sets(st.integers(32, len(cadu) * 8 - 1), min_size=1, max_size=3)):
                cadu[bit // 8] ^= 1 << (bit % 8)
        buf += cadu
    pieces = data.draw(st.integers(1, 5))
    cut = sorted(data.draw(st.lists(st.integers(0, len(buf)), min_size=pieces - 1, max_size=pieces - 1)))
    receiver = frames.FrameStream()
    got = []
    for a, b in zip([0] + cut, cut + [len(buf)]):
        decoded = receiver.push(bytes(buf[a:b]), final=b == len(buf))
        got += [(int(ap), int(t)) for name, d in decoded.data.items() for ap, t in
                zip([packets.dictionary()[name].apid] * len(d["t_us"]), d["t_us"])]
    bad = hurt | dropped
    expected = packets.whole_packets(b"".join(p for p, f in carried if not f & bad))
    assert sorted(got) == sorted(expected.keys())
    assert receiver.counts["frames"] + receiver.counts["damaged"] == n - len(dropped)


def test_a_marker_with_a_few_bit_errors_keeps_the_lock_and_a_ruined_one_costs_its_frame(day):
    _, framed = day
    few, ruined = bytearray(framed), bytearray(framed)
    data_frame = next(i for i, p in enumerate(_parse(framed)) if i > 3 and p[0] != frames.VC_IDLE)
    k = data_frame * frames.CADU_OCTETS
    few[k] ^= 0b101                                   # two bit errors in a data frame's marker
    ruined[k:k + 4] = b"\x00\x00\x00\x00"             # 15 bits wrong: not a marker any more
    intact = frames.FrameStream().push(framed, final=True)
    kept = frames.FrameStream().push(bytes(few), final=True)
    assert kept.valid == intact.valid and kept.frames["sync_losses"] == 0
    lost = frames.FrameStream().push(bytes(ruined), final=True)
    assert lost.frames["sync_losses"] == 1 and lost.frames["skipped_octets"] == frames.CADU_OCTETS
    assert lost.valid < intact.valid


def test_no_marker_no_frames():
    junk = bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8))
    receiver = frames.FrameStream()
    decoded = receiver.push(junk, final=True)
    assert decoded.valid == 0 and receiver.counts["frames"] == 0 and receiver.counts["skipped_octets"] == len(junk)


@pytest.mark.slow
def test_simulate_frames_and_ingest_them(tmp_path, capsys):
    out, db = tmp_path / "frames.bin", f"sqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(SystemExit) as done:
        main(["simulate", "--out", str(out), "--hours", "6", "--start", "2024-01-01", "--frames",
              "--bit-error-rate", "2e-6", "--seed", "4", "--json"])
    assert done.value.code == 0
    sim = json.loads(capsys.readouterr().out)
    assert sim["framed"] is True and out.read_bytes()[:4] == frames.ASM
    with pytest.raises(SystemExit) as done:
        main(["ingest", str(out), "--db", db, "--json"])
    assert done.value.code == 0
    summary = json.loads(capsys.readouterr().out)
    f = summary["frames"]
    assert f["damaged"] >= 1 and f["frames"] > 0 and summary["rejected"] == {"crc": 0, "length": 0, "apid": 0}
    assert 0 < summary["stored_rows"] < sum(sim["packets"].values())


def _data_frames(framed, vc):
    return [i for i, p in enumerate(_parse(framed)) if p[0] == vc]


def test_a_slip_inside_a_frame_costs_only_that_frames_packets(day):
    # Five octets lost inside a beacon frame: its CRC fails where the lock expected it and no
    # marker comes a frame later, so the search starts again just after its marker and finds the
    # next frame's (found when tried as an attacker would).
    stream, framed = day
    carried = _packet_frames(_parse(framed))
    k = _data_frames(framed, frames.VC_BEACON)[5]
    slipped = bytearray(framed)
    del slipped[k * frames.CADU_OCTETS + 500:k * frames.CADU_OCTETS + 505]
    decoded = frames.FrameStream().push(bytes(slipped), final=True)
    expected = packets.whole_packets(b"".join(p for p, f in carried if k not in f))
    got = sorted((packets.dictionary()[n].apid, int(t)) for n, d in decoded.data.items() for t in d["t_us"])
    assert got == sorted(expected.keys()) and decoded.frames["damaged"] == 1


def test_a_repeated_frame_is_skipped_not_counted_as_255_lost(day):
    _, framed = day
    c = frames.CADU_OCTETS
    k = _data_frames(framed, frames.VC_BEACON)[5]
    twice = framed[:(k + 1) * c] + framed[k * c:(k + 1) * c] + framed[(k + 1) * c:]
    decoded = frames.FrameStream().push(twice, final=True)
    clean = frames.FrameStream().push(framed, final=True)
    assert decoded.valid == clean.valid and decoded.frames["lost"] == 0 and decoded.frames["repeated"] == 1
