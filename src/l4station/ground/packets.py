"""The station's CCSDS Space Packets: layouts from the telemetry dictionary, encoding, framing,
CRC and bulk decoding.

Layouts come from one file, ``telemetry.toml`` (see its header for the packet format). Decoding
walks a byte stream in a compiled loop and accepts a packet only where all of it validates
(primary header against the dictionary: version, known APID, declared length; then the CRC);
after a rejection it searches forward byte by byte for the next whole valid packet, never
trusting a length from a header that failed; the valid packets of each APID are then decoded together by
ccsdspy (``FixedLength.load``) with the dictionary's calibrations as ccsdspy converters.

Standards: CCSDS 133.0-B-2 (Space Packet Protocol), CCSDS 301.0-B-4 (Time Code Formats, CUC),
ECSS-E-ST-70-41C annex B.1 (CRC-16/CCITT packet error control).

The CRC's check value (CRC-16/CCITT-FALSE, the catalogue of parametrised CRC algorithms:
0x29B1 for b"123456789"), and CUC time: the Unix epoch is 4383 days after 1958-01-01 in TAI,
plus the 10 s TAI-UTC of 1970:

>>> hex(crc16(b"123456789"))
'0x29b1'
>>> coarse, fine = cuc_from_unix_us([0])
>>> int(coarse[0]), int(fine[0]), 4383 * 86400 + 10
(378691210, 0, 378691210)
>>> int(unix_us_from_cuc(coarse, fine)[0])
0
"""
from __future__ import annotations

import io
import logging
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files

import erfa
import numba
import numpy as np

from l4station import logs

_host_disable = logging.root.manager.disable     # the host program's setting, given back below
logging.disable(max(_host_disable, logging.INFO))  # ccsdspy announces itself on import
import ccsdspy  # noqa: E402
from ccsdspy.converters import Converter, PolyConverter  # noqa: E402
logging.disable(_host_disable)

PRIMARY_OCTETS = 6
TIME_OCTETS = 6            # CUC: 4 octets coarse seconds + 2 octets binary fraction
CRC_OCTETS = 2
SEQUENCE_MODULO = 1 << 14  # the primary header's 14-bit sequence count
TAI_1958_TO_UNIX_S = 378_691_200   # 4383 days from the CUC epoch 1958-01-01 to 1970-01-01
OK, BAD_APID, BAD_LENGTH, BAD_CRC = 0, 1, 2, 3
REJECT_NAMES = {BAD_CRC: "crc", BAD_LENGTH: "length", BAD_APID: "apid"}


class _Log10Converter(Converter):
    """Engineering value 10**(c0 + c1*raw), for quantities spanning decades (fluxes, temperature)."""

    def __init__(self, c0: float, c1: float):
        self.c0, self.c1 = c0, c1

    def convert(self, field_array):
        return 10.0 ** (self.c0 + self.c1 * field_array.astype(float))


@dataclass(frozen=True)
class Field:
    """One telemetry point: raw integer of ``bits`` bits, calibrated to ``units``."""

    name: str
    type: str           # "uint" or "int"
    bits: int
    calibration: str    # "linear" or "log10"
    coeffs: tuple[float, float]
    units: str
    description: str
    yellow: tuple[float, float] | None = None   # alarm ranges [low, high], NaN = open side
    red: tuple[float, float] | None = None
    persistence: int = 3                        # consecutive samples outside before an alarm

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f">{'u' if self.type == 'uint' else 'i'}{self.bits // 8}")

    @property
    def fill(self) -> int:
        """Raw value reserved for "no measurement": the top of an unsigned range, the bottom of a
        signed one. Decodes to NaN."""
        info = np.iinfo(self.dtype)
        return info.max if self.type == "uint" else info.min

    def converter(self) -> Converter:
        c0, c1 = self.coeffs
        return PolyConverter([c1, c0]) if self.calibration == "linear" else _Log10Converter(c0, c1)

    def to_raw(self, value) -> np.ndarray:
        """Engineering values to raw counts, rounded, clipped to the field's range; NaN to fill."""
        value = np.asarray(value, dtype=float)
        c0, c1 = self.coeffs
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = (value - c0) / c1 if self.calibration == "linear" else (np.log10(value) - c0) / c1
        info = np.iinfo(self.dtype)
        top = info.max - 1 if self.type == "uint" else info.max
        bottom = info.min if self.type == "uint" else info.min + 1
        raw = np.clip(np.rint(np.nan_to_num(scaled, nan=0.0, posinf=top, neginf=bottom)), bottom, top)
        return np.where(np.isnan(scaled) & ~np.isinf(scaled), self.fill, raw).astype(self.dtype)


@dataclass(frozen=True)
class PacketType:
    """One APID's fixed layout."""

    name: str
    apid: int
    cadence_s: float
    description: str
    fields: tuple[Field, ...]

    @property
    def octets(self) -> int:
        return PRIMARY_OCTETS + TIME_OCTETS + sum(f.bits for f in self.fields) // 8 + CRC_OCTETS

    @property
    def dtype(self) -> np.dtype:
        """The whole packet as a big-endian numpy record (for encoding)."""
        return np.dtype([("header", ">u2", 3), ("coarse", ">u4"), ("fine", ">u2")]
                        + [(f.name, f.dtype) for f in self.fields] + [("crc", ">u2")])

    @cached_property
    def definition(self) -> ccsdspy.FixedLength:
        """The ccsdspy definition (for decoding), with each field's calibration as a converter."""
        definition = ccsdspy.FixedLength(
            [ccsdspy.PacketField("coarse", "uint", 32), ccsdspy.PacketField("fine", "uint", 16)]
            + [ccsdspy.PacketField(f"{f.name}_raw", f.type, f.bits) for f in self.fields]
            + [ccsdspy.PacketField("crc", "uint", 16)], apid=self.apid, name=self.name)
        for f in self.fields:
            definition.add_converted_field(f"{f.name}_raw", f.name, f.converter())
        return definition

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@cache
def dictionary() -> dict[str, PacketType]:
    """The station's packet types by name, from ``telemetry.toml``."""
    document = tomllib.loads(files("l4station.ground").joinpath("telemetry.toml").read_text())
    return {p["name"]: PacketType(p["name"], p["apid"], float(p["cadence_s"]), p["description"],
                                  tuple(Field(**{**f, **{k: tuple(f[k]) for k in ("coeffs", "yellow", "red") if k in f}})
                                        for f in p["fields"]))
            for p in document["packet"]}


@cache
def _length_of_apid() -> np.ndarray:
    lengths = np.zeros(1 << 11, dtype=np.int64)
    for p in dictionary().values():
        lengths[p.apid] = p.octets
    return lengths


# ---- CRC-16/CCITT (poly 0x1021, preset 0xFFFF, no reflection, no final XOR) -------------------

def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint16)
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


CRC_TABLE = _crc_table()


@numba.njit(cache=True)
def _crc(buf, start, stop, table):
    crc = 0xFFFF
    for i in range(start, stop):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


def crc16(data: bytes | np.ndarray) -> int:
    """CRC-16/CCITT of a byte string (ECSS-E-ST-70-41C B.1; check value of b"123456789": 0x29B1)."""
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    return int(_crc(buf, 0, len(buf), CRC_TABLE))


@numba.njit(cache=True)
def _crc_rows(rows, table):
    out = np.empty(rows.shape[0], dtype=np.uint16)
    for k in range(rows.shape[0]):
        out[k] = _crc(rows[k], 0, rows.shape[1], table)
    return out


# ---- framing -------------------------------------------------------------------------------

@numba.njit(cache=True)
def _verdict(buf, i, lengths, table, final):
    """What starts at offset i: OK (a whole packet that validates: version 0, a dictionary APID,
    that APID's length, CRC), why not (BAD_APID, BAD_LENGTH, BAD_CRC), or -1 when it cannot be
    told yet (header or packet cut off at the end of a stream that goes on)."""
    n = len(buf)
    if i + PRIMARY_OCTETS > n:
        return BAD_LENGTH if final else -1
    apid = ((buf[i] & 0x07) << 8) | buf[i + 1]
    total = ((buf[i + 4] << 8) | buf[i + 5]) + 7
    if (buf[i] >> 5) != 0:
        return BAD_LENGTH
    if lengths[apid] == 0:
        return BAD_APID
    if lengths[apid] != total:
        return BAD_LENGTH
    if i + total > n:
        return BAD_LENGTH if final else -1
    return OK if _crc(buf, i, i + total, table) == 0 else BAD_CRC


@numba.njit(cache=True)
def _frame(buf, lengths, table, final, hunting):
    """Split a byte stream into packets: start offsets, APIDs and status (OK, or why rejected),
    the bytes passed over, the bytes consumed, and whether it ends mid-resynchronisation.

    A packet is accepted only where all of it validates. A header that fails a check is never
    trusted for a length: after a rejection the framer searches forward byte by byte for the next
    offset where a whole packet validates. Each rejection is counted once (at the offset where it
    began), however many bytes it passes over. Unless ``final``, an offset that cannot be judged
    yet (cut off at the end) is left, with ``hunting``, for the next call."""
    n = len(buf)
    offsets = np.empty(n // 7 + 2, dtype=np.int64)
    apids = np.empty(n // 7 + 2, dtype=np.int64)
    status = np.empty(n // 7 + 2, dtype=np.int8)
    k = 0
    skipped = 0
    i = 0
    while i < n:
        verdict = _verdict(buf, i, lengths, table, final)
        if verdict < 0:
            break
        if verdict == OK:
            offsets[k], apids[k], status[k] = i, ((buf[i] & 0x07) << 8) | buf[i + 1], OK
            k += 1
            i += ((buf[i + 4] << 8) | buf[i + 5]) + 7
            hunting = False
            continue
        if not hunting:
            offsets[k], apids[k], status[k] = i, -1, verdict
            k += 1
            hunting = True
        skipped += 1
        i += 1
    return offsets[:k], apids[:k], status[:k], skipped, i, hunting


# ---- time ----------------------------------------------------------------------------------

@cache
def _leap_table() -> tuple[np.ndarray, np.ndarray]:
    """UTC Unix seconds at which each TAI-UTC value (s) takes effect, from ERFA's built-in table."""
    table = erfa.leap_seconds.get()
    table = table[table["year"] >= 1972]
    days = np.array([np.datetime64(f"{y:04d}-{m:02d}-01") for y, m in zip(table["year"], table["month"])])
    starts = (days - np.datetime64("1970-01-01")).astype("timedelta64[D]").astype(np.int64) * 86400
    return starts.astype(float), np.asarray(table["tai_utc"], dtype=float)


def tai_minus_utc(unix_s) -> np.ndarray:
    """TAI-UTC in seconds at UTC Unix times (ERFA's leap-second table; 10 s before 1972)."""
    starts, offsets = _leap_table()
    i = np.searchsorted(starts, np.asarray(unix_s, dtype=float), side="right") - 1
    return np.where(i >= 0, offsets[np.clip(i, 0, None)], 10.0)


CUC_FIRST_UNIX_S = -TAI_1958_TO_UNIX_S                       # 1958-01-01: coarse time 0
CUC_LAST_UNIX_S = 2**32 - TAI_1958_TO_UNIX_S - 86_400        # a day (leap seconds) before 2094-02-07 wraps 32 bits


def cuc_from_unix_us(t_us) -> tuple[np.ndarray, np.ndarray]:
    """CUC (coarse s, fine /65536 s) of TAI since 1958 for UTC Unix microseconds."""
    t_us = np.asarray(t_us, dtype=np.int64)
    tai_us = t_us + (tai_minus_utc(t_us / 1e6) * 1e6).astype(np.int64) + TAI_1958_TO_UNIX_S * 1_000_000
    coarse = tai_us // 1_000_000
    fine = ((tai_us - coarse * 1_000_000) * 65536 + 500_000) // 1_000_000
    return coarse.astype(np.uint32), np.minimum(fine, 65535).astype(np.uint16)


def unix_us_from_cuc(coarse, fine) -> np.ndarray:
    """UTC Unix microseconds of CUC times (TAI since 1958), to the nearest microsecond."""
    tai_s = np.asarray(coarse, dtype=np.int64) - TAI_1958_TO_UNIX_S
    tai_us = tai_s * 1_000_000 + (np.asarray(fine, dtype=np.int64) * 1_000_000 + 32768) // 65536
    starts, offsets = _leap_table()
    i = np.searchsorted(starts + offsets, tai_us / 1e6, side="right") - 1
    return tai_us - (np.where(i >= 0, offsets[np.clip(i, 0, None)], 10.0) * 1e6).astype(np.int64)


# ---- encoding and decoding -----------------------------------------------------------------

def encode(ptype: PacketType, t_us, seq, values: dict[str, np.ndarray]) -> np.ndarray:
    """Packets of one type as an (N, octets) uint8 array: times in UTC Unix microseconds,
    sequence counts (taken modulo 2^14) and engineering values by field name."""
    t_us = np.asarray(t_us, dtype=np.int64)
    records = np.zeros(len(t_us), dtype=ptype.dtype)
    records["header"][:, 0] = 0x0800 | ptype.apid                # version 0, TM, secondary header
    records["header"][:, 1] = 0xC000 | (np.asarray(seq) % SEQUENCE_MODULO)   # unsegmented
    records["header"][:, 2] = ptype.octets - 7
    records["coarse"], records["fine"] = cuc_from_unix_us(t_us)
    for f in ptype.fields:
        records[f.name] = f.to_raw(values[f.name])
    rows = records.view(np.uint8).reshape(len(t_us), ptype.octets)
    records["crc"] = _crc_rows(np.ascontiguousarray(rows[:, :-CRC_OCTETS]), CRC_TABLE)
    return rows


@dataclass
class Decoded:
    """What a byte stream held: per packet type, arrays ``t_us`` (UTC Unix µs), ``seq`` and each
    field in engineering units (NaN for fill); packets seen, rejections by reason (each counted
    once), the bytes passed over while resynchronising, the bytes consumed and whether the stream
    ended mid-resynchronisation."""

    packets: int
    rejected: dict[str, int]
    data: dict[str, dict[str, np.ndarray]]
    consumed: int
    rejected_bytes: int = 0
    hunting: bool = False
    frames: dict[str, int] | None = None       # what the transfer frames held, when they carried the packets

    @property
    def valid(self) -> int:
        return sum(len(d["t_us"]) for d in self.data.values())


def decode(stream: bytes | bytearray | memoryview | np.ndarray, final: bool = True,
           hunting: bool = False) -> Decoded:
    """Frame, check and decode a stream of the station's packets (any mix of APIDs). Unless
    ``final`` (a live stream), whatever cannot be judged yet at the end (a packet cut off) is left
    unread: ``consumed`` says how many bytes were used. ``hunting`` says the stream starts in the
    middle of a resynchronisation (see :class:`PacketStream`)."""
    buf = np.frombuffer(stream, dtype=np.uint8) if not isinstance(stream, np.ndarray) else stream
    offsets, apids, status, skipped, consumed, hunting = _frame(buf, _length_of_apid(), CRC_TABLE, final, hunting)
    rejected = {name: int(np.count_nonzero(status == code)) for code, name in REJECT_NAMES.items()}
    data = {}
    with logs.quieted("ccsdspy"):                # its sequence-count warnings: ingest counts them
        for ptype in dictionary().values():
            start = offsets[(status == OK) & (apids == ptype.apid)]
            rows = buf[start[:, None] + np.arange(ptype.octets)] if len(start) else np.zeros((0, ptype.octets), np.uint8)
            data[ptype.name] = _decode_rows(ptype, rows)
    return Decoded(len(offsets), rejected, data, int(consumed), int(skipped), bool(hunting))


@dataclass(frozen=True)
class Packets:
    """The whole valid packets of a stream, in stream order: start and stop offsets (bytes), APID
    and sample time (UTC Unix µs) of each."""

    start: np.ndarray
    stop: np.ndarray
    apid: np.ndarray
    t_us: np.ndarray

    def keys(self) -> list[tuple[int, int]]:
        """(APID, sample time) of each packet."""
        return list(zip(self.apid.tolist(), self.t_us.tolist()))


def whole_packets(stream: bytes | np.ndarray) -> Packets:
    """Where the whole valid packets of a stream lie (framed as :func:`decode` frames them)."""
    buf = np.frombuffer(stream, dtype=np.uint8) if not isinstance(stream, np.ndarray) else stream
    offsets, apids, status, *_ = _frame(buf, _length_of_apid(), CRC_TABLE, True, False)
    ok = status == OK
    start, apid = offsets[ok], apids[ok]
    octet = start[:, None] + np.arange(PRIMARY_OCTETS, PRIMARY_OCTETS + TIME_OCTETS)
    cuc = buf[octet].astype(np.int64)
    coarse = (cuc[:, 0] << 24) | (cuc[:, 1] << 16) | (cuc[:, 2] << 8) | cuc[:, 3]
    return Packets(start, start + _length_of_apid()[apid], apid, unix_us_from_cuc(coarse, (cuc[:, 4] << 8) | cuc[:, 5]))


class PacketStream:
    """A byte stream that arrives in pieces (a file read in batches, a TCP connection): each
    piece is decoded with the unread tail of the one before, and a resynchronisation under way
    at the end of one piece goes on into the next, so a piece boundary never costs a packet or
    counts a rejection twice."""

    def __init__(self):
        self.tail = b""
        self.hunting = False

    def push(self, piece: bytes, final: bool = False) -> Decoded:
        """Decode what can be decoded of the tail and ``piece``; ``final`` at the end of the stream."""
        buffer = self.tail + bytes(piece)
        decoded = decode(buffer, final=final, hunting=self.hunting)
        self.tail, self.hunting = buffer[decoded.consumed:], decoded.hunting and not final
        return decoded


def _decode_rows(ptype: PacketType, rows: np.ndarray) -> dict[str, np.ndarray]:
    if len(rows) == 0:
        empty = {"t_us": np.zeros(0, np.int64), "seq": np.zeros(0, np.int64)}
        return empty | {f.name: np.zeros(0) for f in ptype.fields}
    arrays = ptype.definition.load(io.BytesIO(rows.tobytes()), include_primary_header=True)
    out = {"t_us": unix_us_from_cuc(arrays["coarse"], arrays["fine"]),
           "seq": arrays["CCSDS_SEQUENCE_COUNT"].astype(np.int64)}
    for f in ptype.fields:
        out[f.name] = np.where(arrays[f"{f.name}_raw"] == f.fill, np.nan, arrays[f.name])
    return out
