"""The mission's bundles carried home by store and forward over its contact plan, with its
relays and with the ground stations alone.

**Traffic** (from the mission's instruments, :class:`DeliveryInputs`):
- the real-time beacon: the real-time instruments' output, one bundle a minute, expedited,
  best effort (LTP green), from the station to the operations centre;
- the other instruments (the imager): one file every :data:`FILE_EVERY_S`, cut into bundles of
  :data:`BUNDLE_BITS`, bulk priority, reliable (LTP red);
- a Mars lander's science, :data:`MARS_BPS` in bundles every 10 minutes, reliable, through the
  station when Mars is behind the Sun (only where the mission's survey found a conjunction).
The station stores at most its recorder's capacity; every space link loses LTP segments with
probability :data:`SEGMENT_LOSS` (assumed: a frame error rate after decoding of 1e-3).

>>> round(BEACON_EVERY_S * 2000.0 / 1e3)     # kbit in a beacon bundle at 2 kbit/s of real-time data
120
"""
from __future__ import annotations

import dataclasses

from l4station.comms.dtn import forwarding, network
from l4station.records import positive, record

BEACON_EVERY_S = 60.0
FILE_EVERY_S = 600.0
BUNDLE_BITS = 1e6
MARS_BPS = 1e3
MARS_EVERY_S = 600.0
SEGMENT_LOSS = 1e-3
SPACE_NODES = (network.STATION, network.MARS, network.L1_RELAY, network.L5_RELAY, network.GEO_RELAY)


@record
class DeliveryInputs:
    """What the mission's delivery depends on besides its passes and its link survey."""

    target: str
    beacon_stations: tuple[str, ...]
    realtime_bps: float                  # the real-time instruments' output
    other_bps: float                     # the other instruments' (files)
    ground_latency_s: float
    exclusion_deg: float                 # solar exclusion at either end of a link
    recorder_bits: float

    def __post_init__(self):
        positive(self, "realtime_bps", "other_bps", "ground_latency_s", "exclusion_deg", "recorder_bits", zero=True)


def mission_network(mission: DeliveryInputs, passes, links, *, relays: bool = True) -> network.Network:
    """The mission's contact plan over ``passes``' span (the contact study's passes), with or
    without its relays (``links``: the mission's :func:`l4station.comms.survey.survey`)."""
    in_span = [c for c in links.conjunctions if c.end >= passes.times[0] and c.start <= passes.times[-1]]
    return network.mission_network(
        passes, target=mission.target, beacon_stations=mission.beacon_stations,
        beacon_bps=network.BEACON_FACTOR * mission.realtime_bps, ground_latency_s=mission.ground_latency_s,
        relay_paths=[p for p in links.paths if len(p.hops) > 1 or p.hops[0].sink in ("L1", "L5")] if relays else (),
        conjunctions=in_span if relays else (), exclusion_deg=mission.exclusion_deg)


def mission_traffic(mission: DeliveryInputs, net: network.Network) -> forwarding.Traffic:
    """The mission's bundles over the plan's span (see the module docstring)."""
    span = float(net.plan.end_s.max())
    parts = [forwarding.periodic(network.STATION, network.MOC, 0.0, span, BEACON_EVERY_S,
                                 mission.realtime_bps * BEACON_EVERY_S, priority=0, red=False)]
    if mission.other_bps > 0:
        parts.append(forwarding.periodic(network.STATION, network.MOC, 0.0, span, FILE_EVERY_S, BUNDLE_BITS,
                                         priority=2, red=True, file_bits=mission.other_bps * FILE_EVERY_S))
    if network.MARS in net.names:
        parts.append(forwarding.periodic(network.MARS, network.MOC, 0.0, span, MARS_EVERY_S, MARS_BPS * MARS_EVERY_S,
                                         priority=1, red=True))
    return forwarding.Traffic.concat(parts)


@dataclasses.dataclass(frozen=True)
class Run:
    """One delivery run: the network, its traffic and what became of it."""

    network: network.Network
    traffic: forwarding.Traffic
    result: forwarding.Delivery

    def to_json(self) -> dict:
        return self.result.to_json()

    def __rich__(self):
        return self.result.__rich__()


def deliver(mission: DeliveryInputs, passes, links, *, relays: bool = True) -> Run:
    """The mission's traffic carried over its plan (``passes``: the contact study's passes;
    ``links``: the mission's link survey)."""
    net = mission_network(mission, passes, links, relays=relays)
    traffic = mission_traffic(mission, net)
    loss = {(int(f), int(t)): SEGMENT_LOSS for f, t in zip(net.plan.frm, net.plan.to)
            if int(f) in SPACE_NODES or int(t) in SPACE_NODES}
    result = forwarding.simulate(net.plan, traffic, storage_bits={network.STATION: mission.recorder_bits}, loss=loss)
    result.names = dict(net.names)
    return Run(net, traffic, result)
