"""CFDP file delivery (CCSDS 727.0-B-5) from the station to the ground over a deep-space link,
with cfdp-py's source and destination entities on a simulated clock.

- **The link** (:class:`Link`): each way, PDUs queue at the link rate, travel the one-way light
  time, and are lost with a probability or hit by bit errors; a PDU whose CRC (on transmission)
  fails is dropped at the receiver and counted.
- **Class 2** (acknowledged): missing segments are NAKed as soon as a gap shows, EOF and Finished
  are acknowledged. Its ACK, NAK and check timers are set from the round-trip light time
  (:func:`timers`): cfdp-py's 10 s defaults would expire twenty times before any answer could come
  back from L4 (about 500 s each way).
- **Class 1** (unacknowledged), for the beacon: what is lost stays lost; the receiver's check timer
  decides when to stop waiting.
- **Completion**: a file is delivered only when the destination entity finishes it with no error,
  its CRC-32 checksum (CFDP's) matching: a damaged file is never passed on as complete.

The clock: cfdp-py's timers read ``spacepackets.countdown.time_ms``; the simulation replaces it with
its own clock while it runs (:func:`_simulated_clock`), and steps from event to event.

A 4,000-octet file in 512-octet segments, one segment lost, over 500 s of light time: the
segments arrive after one light time, the NAK reaches the station after two, the resent segment
completes the file after about three (see ``tests/comms/dtn/test_cfdp.py``). With nothing lost,
a file arrives whole after one light time; the timers wait 1.25 round trips and 10 s:

>>> transfer = deliver({"hello.txt": b"hello"}, Link(500.0))
>>> transfer.deliveries[0].complete, round(transfer.deliveries[0].received_s), timers(500.0)
(True, 500, 1260.0)
"""
from __future__ import annotations

import contextlib
import copy
import heapq
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

import numpy as np

from l4station import logs
from l4station.errors import InputError

SOURCE_ID, DEST_ID = 1, 2
TIMER_MARGIN = 1.25                  # timers wait this much more than a round trip ...
TIMER_SLACK_S = 10.0                 # ... plus this, for processing and queueing
TIMER_LIMIT = 4                      # expiries before a fault (cfdp-py's default: 2)
MAX_STEPS = 100_000                  # state-machine steps of one entity at one instant
MAX_NAME_OCTETS = 255                # a file name in a Metadata PDU's LV field


def timers(owlt_s: float) -> float:
    """The ACK, NAK and check timer interval (s) for a one-way light time: a round trip with a
    margin, so no timer expires before its answer could have come back."""
    return TIMER_MARGIN * 2.0 * owlt_s + TIMER_SLACK_S


@dataclass(frozen=True)
class Link:
    """One deep-space link, both ways: one-way light time (s), rate (bit/s; the ground's uplink
    is taken as fast), PDU loss probability, bit error rate, and a seed. ``drop(direction, k)``,
    when given, decides instead whether the k-th PDU of ``direction`` ("down" or "up") is lost."""

    owlt_s: float
    rate_bps: float = 1e6
    loss: float = 0.0
    bit_error_rate: float = 0.0
    seed: int = 0
    drop: Callable[[str, int], bool] | None = None

    def __post_init__(self):
        if not (np.isfinite(self.owlt_s) and 0 <= self.owlt_s <= 1e5):
            raise InputError(f"one-way light time {self.owlt_s} s must be 0 to 100,000 s")
        if not (np.isfinite(self.rate_bps) and self.rate_bps > 0):
            raise InputError(f"link rate {self.rate_bps} bit/s must be a positive number")
        if not 0 <= self.loss < 1:
            raise InputError(f"PDU loss {self.loss} must be a fraction in [0, 1)")
        if not 0 <= self.bit_error_rate < 1e-2:
            raise InputError(f"bit error rate {self.bit_error_rate} must be in [0, 0.01)")


@dataclass
class Delivery:
    """One file's transfer: its name and size, whether it arrived complete (checksum verified),
    the condition the destination finished with, when the file was complete at the receiver and
    when the sender's transaction closed (s after the first file was offered), and PDUs sent."""

    name: str
    octets: int
    complete: bool = False
    condition: str = "not finished"
    received_s: float | None = None
    closed_s: float | None = None
    pdus_down: int = 0
    pdus_up: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Transfer:
    """Every file of a run, the PDUs rejected at either end (failed CRC or unparsable), and the
    files' contents as received (only the complete ones)."""

    deliveries: list[Delivery]
    rejected_pdus: int
    received: dict[str, bytes] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"files": [d.to_json() for d in self.deliveries], "rejected_pdus": self.rejected_pdus,
                "complete": sum(d.complete for d in self.deliveries)}

    def __rich__(self):
        from l4station import tables
        rows = [[d.name, f"{d.octets:,}", "yes" if d.complete else "no", d.condition,
                 "" if d.received_s is None else f"{d.received_s:,.1f}", str(d.pdus_down), str(d.pdus_up)]
                for d in self.deliveries]
        return tables.table(f"CFDP deliveries ({self.rejected_pdus} PDUs rejected)",
                            ["File", "Octets", "Complete", "Condition", "Received (s)", "PDUs down", "PDUs up"], rows)


@contextlib.contextmanager
def _simulated_clock(now: list[float]):
    """cfdp-py's timers (spacepackets' Countdown) read the simulation's clock ``now[0]`` (s)."""
    from spacepackets import countdown
    real = countdown.time_ms
    countdown.time_ms = lambda: round(now[0] * 1000)
    try:
        yield
    finally:
        countdown.time_ms = real


def _entities(link: Link, acknowledged: bool, segment_octets: int, events: dict):
    """A source and a destination entity joined by nothing yet, their users recording into
    ``events``."""
    from spacepackets.cfdp import ChecksumType, TransmissionMode
    from spacepackets.countdown import Countdown
    from spacepackets.seqcount import SeqCountProvider
    from spacepackets.util import ByteFieldU16
    from cfdppy.handler.dest import DestHandler, LostSegmentTracker, TransactionStep
    from cfdppy.handler.source import SourceHandler
    from cfdppy.mib import (CheckTimerProvider, DefaultFaultHandlerBase, IndicationConfig, LocalEntityConfig,
                            RemoteEntityConfig, RemoteEntityConfigTable)
    from cfdppy.user import CfdpUserBase

    interval = timers(link.owlt_s)

    class Faults(DefaultFaultHandlerBase):
        def notice_of_suspension_cb(self, transaction_id, cond, progress): pass
        def notice_of_cancellation_cb(self, transaction_id, cond, progress): pass
        def abandoned_cb(self, transaction_id, cond, progress): pass
        def ignore_cb(self, transaction_id, cond, progress): pass

    class User(CfdpUserBase):
        def __init__(self, side):
            super().__init__()
            self.side = side

        def transaction_finished_indication(self, params):
            events.setdefault("finished", []).append((self.side, params))

        def transaction_indication(self, params): pass
        def eof_sent_indication(self, transaction_id): pass
        def metadata_recv_indication(self, params): pass
        def file_segment_recv_indication(self, params): pass
        def report_indication(self, transaction_id, status_report): pass
        def suspended_indication(self, transaction_id, cond_code): pass
        def resumed_indication(self, transaction_id, progress): pass
        def fault_indication(self, transaction_id, cond_code, progress): pass
        def abandoned_indication(self, transaction_id, cond_code, progress): pass
        def eof_recv_indication(self, transaction_id): pass

    class Checks(CheckTimerProvider):
        def provide_check_timer(self, local_entity_id, remote_entity_id, entity_type):
            return Countdown(timedelta(seconds=interval))

    class Receiver(DestHandler):
        """cfdp-py's destination entity (0.7), mended in two places where segments are resent:
        - Metadata after EOF (it was lost and NAKed): the entity went back to receiving file data
          and never rechecked for the missing segments, so the transaction hung; it now waits for
          the missing data.
        - The checksum was taken over the file up to the last segment received, which after a
          resent early segment is not the whole file: a complete file failed its check. It is
          taken over the whole file, as 727.0-B-5 4.6.1.2.7 says.
        - EOF before Metadata: its checksum was not kept, so the finished file could never pass.
        - Every transaction shared one lost-segment tracker (a dataclass default instance), so
          the segments one transfer lost were NAKed again in every later one, in any entity of
          the process; each transaction now has its own."""

        @property
        def _params(self):
            return self.__dict__["_params"]

        @_params.setter
        def _params(self, wrapper):
            wrapper.acked_params.lost_seg_tracker = LostSegmentTracker()
            self.__dict__["_params"] = wrapper

        def _handle_eof_without_previous_metadata(self, eof_pdu):
            super()._handle_eof_without_previous_metadata(eof_pdu)
            self._params.fp.crc32 = eof_pdu.file_checksum

        def _checksum_verify(self, verify_len, expected_crc32):
            size = self._params.fp.file_size
            return super()._checksum_verify(verify_len if size is None else size, expected_crc32)

        def _handle_metadata_packet(self, metadata_pdu):
            super()._handle_metadata_packet(metadata_pdu)
            if (self._params.acked_params.deferred_lost_segment_detection_active
                    and self.states.step == TransactionStep.RECEIVING_FILE_DATA):
                self.states.step = TransactionStep.WAITING_FOR_MISSING_DATA

    mode = TransmissionMode.ACKNOWLEDGED if acknowledged else TransmissionMode.UNACKNOWLEDGED
    remote = RemoteEntityConfig(entity_id=ByteFieldU16(SOURCE_ID), max_packet_len=segment_octets + 64,
                                max_file_segment_len=segment_octets, closure_requested=acknowledged,
                                crc_on_transmission=True, default_transmission_mode=mode,
                                crc_type=ChecksumType.CRC_32, positive_ack_timer_interval_seconds=interval,
                                positive_ack_timer_expiration_limit=TIMER_LIMIT, check_limit=TIMER_LIMIT,
                                nak_timer_interval_seconds=interval, nak_timer_expiration_limit=TIMER_LIMIT)
    table = RemoteEntityConfigTable()
    table.add_config(remote)
    to_dest = copy.copy(remote)
    to_dest.entity_id = ByteFieldU16(DEST_ID)
    table.add_config(to_dest)
    source = SourceHandler(cfg=LocalEntityConfig(ByteFieldU16(SOURCE_ID), IndicationConfig(), Faults()),
                           user=User("source"), remote_cfg_table=table, check_timer_provider=Checks(),
                           seq_num_provider=SeqCountProvider(16))
    dest = Receiver(cfg=LocalEntityConfig(ByteFieldU16(DEST_ID), IndicationConfig(), Faults()),
                       user=User("dest"), remote_cfg_table=table, check_timer_provider=Checks())
    return source, dest, mode


def _ack_of_finished(finished):
    """The ACK of a Finished PDU from a sender whose transaction has closed (727.0-B-5 4.7: a
    receiver repeating Finished because the first ACK was lost gets it again; cfdp-py's idle source
    does not answer, so the link does)."""
    from spacepackets.cfdp import Direction, DirectiveType
    from spacepackets.cfdp.pdu import AckPdu, TransactionStatus
    conf = copy.copy(finished.pdu_header.pdu_conf)
    conf.direction = Direction.TOWARDS_RECEIVER
    return AckPdu(conf, DirectiveType.FINISHED_PDU, finished.condition_code, TransactionStatus.TERMINATED)


def deliver(files: dict[str, bytes], link: Link, *, acknowledged: bool = True, segment_octets: int = 512,
            horizon_s: float | None = None) -> Transfer:
    """Send ``files`` (name -> content) one after another from the station to the ground over
    ``link`` with CFDP class 2 (``acknowledged``) or class 1, in ``segment_octets`` file-data
    segments; stop at ``horizon_s`` of simulated time (default: 50 round trips per file)."""
    from spacepackets.cfdp import ConditionCode, FileStatus
    from spacepackets.cfdp.pdu import FinishedPdu, PduFactory
    from spacepackets.util import ByteFieldU16
    from cfdppy import CfdpState
    from cfdppy.request import PutRequest

    import cfdppy.exceptions
    import spacepackets.exceptions
    import spacepackets.cfdp.defs
    refused = (ValueError, KeyError, IndexError,            # what a damaged or misplaced PDU raises
               *(e for m in (spacepackets.exceptions, spacepackets.cfdp.defs, cfdppy.exceptions)
                 for e in vars(m).values() if isinstance(e, type) and issubclass(e, Exception)))
    if not 16 <= segment_octets <= 65000:
        raise InputError(f"segment length {segment_octets} octets must be 16 to 65,000")
    for name in files:
        if len(name.encode("utf-8")) > MAX_NAME_OCTETS:
            raise InputError(f"file name {name[:40]!r}... is {len(name.encode('utf-8'))} octets; CFDP carries names of "
                             f"at most {MAX_NAME_OCTETS} (727.0-B-5 5.2.5, an LV field)")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            raise InputError(f"file name {name!r} holds a control character; rename the file")
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise InputError(f"file name {name!r} must be a plain name (no folders)")
    if horizon_s is None:        # 50 round trips a file, and the time its octets take at the link rate, twice
        horizon_s = sum(50 * (2 * link.owlt_s + 10.0) + 2 * 8 * len(data) / link.rate_bps for data in files.values())
        horizon_s = max(horizon_s, 50 * (2 * link.owlt_s + 10.0))
    rng = np.random.default_rng(link.seed)
    events: dict = {}
    source, dest, mode = _entities(link, acknowledged, segment_octets, events)
    deliveries = {name: Delivery(name, len(data)) for name, data in files.items()}
    received: dict[str, bytes] = {}
    rejected = 0
    now = [0.0]
    arrivals: list = []                   # (time, order, direction, raw bytes)
    free = {"down": 0.0, "up": 0.0}
    sent = {"down": 0, "up": 0}
    order = 0
    queue = list(files)
    current: list[str | None] = [None]

    def transmit(direction: str, raw: bytes) -> None:
        nonlocal order
        k = sent[direction]
        sent[direction] += 1
        if current[0] is not None:
            setattr(deliveries[current[0]], f"pdus_{direction}", getattr(deliveries[current[0]], f"pdus_{direction}") + 1)
        rate = link.rate_bps if direction == "down" else max(link.rate_bps, 1e6)
        start = max(now[0], free[direction])
        free[direction] = start + len(raw) * 8 / rate
        lost = link.drop(direction, k) if link.drop is not None else rng.random() < link.loss
        if lost:
            return
        if link.bit_error_rate > 0:
            flips = rng.binomial(len(raw) * 8, link.bit_error_rate)
            if flips:
                buf = bytearray(raw)
                for bit in rng.integers(0, len(raw) * 8, flips):
                    buf[bit // 8] ^= 1 << (bit % 8)
                raw = bytes(buf)
        heapq.heappush(arrivals, (free[direction] + link.owlt_s, order, direction, raw))
        order += 1

    def pump() -> None:
        nonlocal rejected
        for handler, direction in ((source, "down"), (dest, "up")):
            while handler.packets_ready:
                try:
                    raw = handler.get_next_packet().pdu.pack()
                except ValueError:     # cfdp-py 0.7 can make an ACK it cannot pack (condition code 16 after a
                    rejected += 1      # cancellation): it is never sent, and the peer's timers take over
                    continue
                transmit(direction, raw)

    with tempfile.TemporaryDirectory() as work, _simulated_clock(now), logs.quieted("cfdppy"):
        work = Path(work)
        (work / "out").mkdir()
        (work / "in").mkdir()
        for name, data in files.items():
            (work / "out" / name).write_bytes(data)
        tick = max(timers(link.owlt_s) / 40.0, 0.01)
        while now[0] <= horizon_s:
            if source.state == CfdpState.IDLE and dest.state == CfdpState.IDLE and queue and not arrivals:
                # one transaction at a time, each closed at both ends: a receiver still repeating
                # its Finished PDU would otherwise turn away the next file
                current[0] = queue.pop(0)
                source.put_request(PutRequest(destination_id=ByteFieldU16(DEST_ID), source_file=work / "out" / current[0],
                                              dest_file=work / "in" / current[0], trans_mode=mode,
                                              closure_requested=acknowledged))
            while arrivals and arrivals[0][0] <= now[0]:
                _, _, direction, raw = heapq.heappop(arrivals)
                try:
                    pdu = PduFactory.from_raw(raw)
                    if pdu is None:
                        raise ValueError("not a PDU")
                    if direction == "up" and source.state == CfdpState.IDLE and isinstance(pdu, FinishedPdu):
                        transmit("down", _ack_of_finished(pdu).pack())     # its ACK was lost: acknowledge again
                    else:
                        (dest if direction == "down" else source).state_machine(pdu)
                except refused:                   # a PDU the CRC or the parser refuses, or one out of place
                    rejected += 1
                pump()
            for handler in (source, dest):            # as many steps as it takes now (a segment a step)
                for _ in range(MAX_STEPS):
                    before = sent["down"] + sent["up"]
                    handler.state_machine()
                    pump()
                    if sent["down"] + sent["up"] == before:
                        break
            for side, params in events.pop("finished", []):
                name = current[0]
                fin = params.finished_params
                if side == "dest" and name is not None and deliveries[name].condition == "not finished":
                    d = deliveries[name]
                    code = int(fin.condition_code)
                    d.condition = ConditionCode(code).name if code in ConditionCode._value2member_map_ else f"code {code}"
                    path = work / "in" / name
                    if fin.condition_code == ConditionCode.NO_ERROR and fin.file_status == FileStatus.FILE_RETAINED:
                        d.complete, d.received_s = True, now[0]
                        received[name] = path.read_bytes()
                elif side == "source" and name is not None:
                    deliveries[name].closed_s = now[0]
            idle = source.state == CfdpState.IDLE and dest.state == CfdpState.IDLE
            if idle and not queue and not arrivals:
                break
            now[0] = min(arrivals[0][0], now[0] + tick) if arrivals else now[0] + tick
    return Transfer(list(deliveries.values()), rejected, received)
