"""CCSDS TM Transfer Frames: the station's packets on virtual channels, as a deep-space
downlink carries them, and back.

- **Frames** (CCSDS 132.0-B-3): fixed length, 1,115 octets (what Reed-Solomon (255,223) with
  interleaving 5 protects); a 6-octet primary header (version 0, spacecraft ID, virtual channel,
  master- and virtual-channel frame counts modulo 256, first header pointer); a data field of
  packets that may span frames; the frame error control field, CRC-16/CCITT over the rest.
- **Virtual channels**: 0 the real-time beacon (plasma, magnetic field, protons), 1 the recorder
  playback (housekeeping), 7 only-idle-data frames, sent while nothing else is ready.
- **First header pointer**: where the first packet starting in the frame begins; 0x7FF when
  none does, 0x7FE for idle data. A virtual channel's last frame is filled with an idle packet
  (APID 0x7FF, CCSDS 133.0-B-2).
- **Synchronisation** (CCSDS 131.0-B-4): each frame follows the attached sync marker 0x1ACFFC1D.

The receiver (:class:`FrameStream`) searches for the marker and, once locked, expects it every
1,119 octets, tolerating a few bit errors in it (a flywheel), and searches again when it is
lost. A frame whose CRC fails is dropped; a jump in a virtual channel's frame count counts the
frames lost; after either, that channel resumes at the first header pointer of its next good
frame. So a lost or damaged frame costs exactly the packets with a byte in it.

>>> looks_framed(bytes.fromhex("1ACFFC1D") + bytes(1115)), looks_framed(bytes(1119))
(True, False)
>>> len(idle_packet(10))              # an idle packet fills a channel's last frame
10
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from l4station.ground import packets

ASM = bytes.fromhex("1ACFFC1D")
FRAME_OCTETS = 1115
HEADER_OCTETS = 6
FECF_OCTETS = 2
DATA_OCTETS = FRAME_OCTETS - HEADER_OCTETS - FECF_OCTETS
CADU_OCTETS = len(ASM) + FRAME_OCTETS
SPACECRAFT_ID = 0x1A4                  # 10 bits; the project's own choice, not an assigned SCID
VC_BEACON, VC_PLAYBACK, VC_IDLE = 0, 1, 7
NO_PACKET_START, IDLE_DATA = 0x7FF, 0x7FE
IDLE_APID = 0x7FF
ASM_TOLERANCE_BITS = 4                 # marker bit errors accepted where a locked receiver expects it
IDLE_EVERY_S = 120.0                   # an idle frame for each such silence between data frames
BEACON_TYPES = ("plasma", "mag", "particles")


def idle_packet(octets: int) -> bytes:
    """An idle packet (APID 0x7FF) of ``octets`` >= 7 octets in all."""
    header = bytes([0x07, 0xFF, 0xC0, 0x00, (octets - 7) >> 8, (octets - 7) & 0xFF])
    return header + bytes([0x55]) * (octets - 6)


def _frame(vc: int, mc_count: int, vc_count: int, first_header: int, data: bytes) -> bytes:
    word = (SPACECRAFT_ID << 4) | (vc << 1)                      # version 00, OCF flag 0
    status = (0b11 << 11) | first_header                          # segment length id 11
    head = bytes([word >> 8, word & 0xFF, mc_count & 0xFF, vc_count & 0xFF, status >> 8, status & 0xFF])
    body = head + data
    crc = packets.crc16(body)
    return ASM + body + bytes([crc >> 8, crc & 0xFF])


def _channel_frames(stream: bytes, starts: np.ndarray) -> list[tuple[bytes, int]]:
    """A virtual channel's packet stream cut into data fields, the last filled with an idle
    packet, each with its first header pointer (``starts``: packet start offsets)."""
    fill = (-len(stream)) % DATA_OCTETS
    if 0 < fill < 7:
        fill += DATA_OCTETS
    if fill:
        starts = np.append(starts, len(stream))
        stream += idle_packet(fill)
    out = []
    for k in range(len(stream) // DATA_OCTETS):
        lo = k * DATA_OCTETS
        first = starts[np.searchsorted(starts, lo)] if np.searchsorted(starts, lo) < len(starts) else None
        pointer = first - lo if first is not None and first < lo + DATA_OCTETS else NO_PACKET_START
        out.append((stream[lo:lo + DATA_OCTETS], int(pointer)))
    return out


def encode(channels: dict[int, tuple[bytes, np.ndarray, np.ndarray]]) -> bytes:
    """Frames of several virtual channels, multiplexed in the order they fill.

    ``channels``: per virtual channel, its packets' bytes back to back, each packet's start offset
    and its time (UTC Unix us). A frame is ready when its last packet byte is, and frames go out
    in that order; a silence of more than :data:`IDLE_EVERY_S` between data frames is filled with
    idle frames, one per such interval, as a downlink keeping lock does."""
    ready = []
    for vc, (stream, starts, t_us) in channels.items():
        for k, (data, pointer) in enumerate(_channel_frames(stream, np.asarray(starts))):
            last = np.searchsorted(starts, (k + 1) * DATA_OCTETS) - 1       # the packet its last byte is in
            ready.append((int(t_us[min(max(last, 0), len(t_us) - 1)]) if len(t_us) else 0, vc, k, data, pointer))
    ready.sort(key=lambda r: (r[0], r[1], r[2]))
    out, mc, idle, previous = [], 0, 0, None
    for t, vc, k, data, pointer in ready:
        if previous is not None:
            for _ in range(int((t - previous) / (IDLE_EVERY_S * 1e6))):
                out.append(_frame(VC_IDLE, mc, idle, IDLE_DATA, bytes([0x55]) * DATA_OCTETS))
                mc, idle = mc + 1, idle + 1
        out.append(_frame(vc, mc, k, pointer, data))
        mc, previous = mc + 1, t
    return b"".join(out)


def looks_framed(head: bytes) -> bool:
    """Whether a stream's first bytes are sync-marked frames rather than bare packets: the
    marker at its start, or twice a frame apart in its first 16 kB."""
    if head[:4] == ASM:
        return True
    buf = np.frombuffer(head[:16384], dtype=np.uint8)
    at = _markers(buf)
    return bool(np.any(np.isin(at + CADU_OCTETS, at)))


def _markers(buf: np.ndarray) -> np.ndarray:
    if len(buf) < 4:
        return np.zeros(0, np.int64)
    a = np.frombuffer(ASM, dtype=np.uint8)
    hit = (buf[:-3] == a[0]) & (buf[1:-2] == a[1]) & (buf[2:-1] == a[2]) & (buf[3:] == a[3])
    return np.flatnonzero(hit)


_ASM_BITS = np.unpackbits(np.frombuffer(ASM, dtype=np.uint8))


@dataclass
class Channel:
    """A virtual channel's reassembly: the last frame count seen and the bytes of a packet
    still being completed (None: out of step until a frame gives a first header pointer)."""

    count: int | None = None
    pending: bytearray | None = None


@dataclass
class FrameStream:
    """Frames arriving in pieces (a file in batches, a TCP connection), turned back into the
    station's packets; ``counts`` says what was seen: frames good, idle, damaged (CRC, or not
    this spacecraft's), lost (virtual-channel count jumps forward, up to 128), repeated (a copy
    of the last, or one behind its channel: skipped), octets passed over while searching for the
    marker, and times the lock was lost. A frame that fails where the lock expected it, with no
    marker a frame later, is a slip: the search starts again just after its marker."""

    tail: bytes = b""
    locked: bool = False
    channels: dict[int, Channel] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"frames": 0, "idle": 0, "damaged": 0, "lost": 0,
                                                             "repeated": 0, "skipped_octets": 0, "sync_losses": 0})

    def push(self, piece: bytes, final: bool = False) -> packets.Decoded:
        """The packets whole in the frames of the tail and ``piece``, decoded; with this piece's
        frame counts in ``Decoded.frames``."""
        before = dict(self.counts)
        buf = self.tail + bytes(piece)
        arr = np.frombuffer(buf, dtype=np.uint8)
        markers = _markers(arr)
        out = bytearray()
        pos = 0
        while pos < len(buf):
            if self.locked and pos + CADU_OCTETS > len(buf) and not final:
                break                                          # the next frame is not all here yet
            flywheel = self.locked and pos + 4 <= len(buf) and self._near_marker(arr[pos:pos + 4])
            if flywheel:
                start = pos
            else:
                if self.locked:
                    self.counts["sync_losses"] += 1
                    self.locked = False
                k = np.searchsorted(markers, pos)
                found = int(markers[k]) if k < len(markers) else len(buf)
                if found + CADU_OCTETS > len(buf) and not final:
                    keep = min(found, max(pos, len(buf) - 3))  # a marker may straddle the pieces
                    self.counts["skipped_octets"] += keep - pos
                    pos = keep
                    break
                self.counts["skipped_octets"] += min(found, len(buf)) - pos
                start = found
            if start + CADU_OCTETS > len(buf):                 # final: a cut-off frame
                self.counts["skipped_octets"] += len(buf) - start
                pos = len(buf)
                break
            frame = buf[start + 4:start + CADU_OCTETS]
            if not flywheel and not _intact(frame) and not self._marker_follows(arr, start + CADU_OCTETS, final):
                self.counts["skipped_octets"] += 1             # a marker's pattern that heads no frame
                pos = start + 1
                continue
            self.locked = True
            self._frame(frame, out)
            pos = start + CADU_OCTETS
            if flywheel and not _intact(frame) and not self._marker_follows(arr, pos, final):
                pos = start + len(ASM)      # a slip: the next frame's marker may lie inside this one
        self.tail = buf[pos:]
        decoded = packets.decode(bytes(out), final=True)
        decoded.frames = {k: self.counts[k] - before[k] for k in self.counts}
        return decoded

    def _marker_follows(self, arr: np.ndarray, at: int, final: bool) -> bool:
        """Whether a marker (within the flywheel's tolerance) comes a frame later, as after a real
        frame that was damaged; the end of a final stream counts as one."""
        return self._near_marker(arr[at:at + 4]) if at + 4 <= len(arr) else final and at == len(arr)

    @staticmethod
    def _near_marker(word: np.ndarray) -> bool:
        return int(np.count_nonzero(np.unpackbits(word) != _ASM_BITS)) <= ASM_TOLERANCE_BITS

    def _frame(self, frame: bytes, out: bytearray) -> None:
        if not _intact(frame):
            self.counts["damaged"] += 1
            return
        self.counts["frames"] += 1
        vc = (frame[1] >> 1) & 0x7
        pointer = ((frame[4] & 0x7) << 8) | frame[5]
        if vc == VC_IDLE or pointer == IDLE_DATA:
            self.counts["idle"] += 1
            return
        channel = self.channels.setdefault(vc, Channel())
        count, data = frame[3], frame[HEADER_OCTETS:HEADER_OCTETS + DATA_OCTETS]
        step = None if channel.count is None else (count - channel.count) % 256
        if step == 0 or (step is not None and step > 128):
            self.counts["repeated"] += 1    # a copy, or a frame behind its channel: its packets are had or lost
            return
        if step is not None and step != 1:
            self.counts["lost"] += step - 1
            channel.pending = None
        channel.count = count
        if pointer == NO_PACKET_START:
            if channel.pending is not None:
                channel.pending += data
                _split(channel, out)
            return
        if pointer >= DATA_OCTETS:                     # a pointer no frame can have: out of step
            channel.pending = None
            return
        if channel.pending is not None:
            channel.pending += data[:pointer]
            _split(channel, out)
        channel.pending = bytearray(data[pointer:])    # a packet starts here, whatever came before
        _split(channel, out)


def _intact(frame: bytes) -> bool:
    """A frame of this spacecraft (version 0, our ID) whose CRC checks."""
    return (packets.crc16(frame) == 0 and frame[0] >> 6 == 0
            and (((frame[0] << 4) | (frame[1] >> 4)) & 0x3FF) == SPACECRAFT_ID)


def _split(channel: Channel, out: bytearray) -> None:
    """Move the whole packets at the front of a channel's pending bytes to ``out`` (idle packets
    dropped)."""
    buf = channel.pending
    i = 0
    while len(buf) - i >= packets.PRIMARY_OCTETS:
        total = ((buf[i + 4] << 8) | buf[i + 5]) + 7
        if len(buf) - i < total:
            break
        if ((buf[i] & 0x07) << 8 | buf[i + 1]) != IDLE_APID:
            out += buf[i:i + total]
        i += total
    del buf[:i]


def station_frames(stream_packets: bytes) -> bytes:
    """The station's packet stream as frames: the beacon types on virtual channel 0, the rest
    on channel 1, each channel's packets in stream order."""
    found = packets.whole_packets(stream_packets)
    names = {p.apid: n for n, p in packets.dictionary().items()}
    beacon = np.array([names.get(int(a)) in BEACON_TYPES for a in found.apid], dtype=bool)
    channels = {}
    for vc, members in ((VC_BEACON, beacon), (VC_PLAYBACK, ~beacon)):
        start, stop, t = found.start[members], found.stop[members], found.t_us[members]
        data = b"".join(stream_packets[a:b] for a, b in zip(start, stop))
        channels[vc] = (data, np.concatenate([[0], np.cumsum(stop - start)[:-1]]).astype(np.int64), t)
    return encode(channels)
