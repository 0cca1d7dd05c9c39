"""The station's instruments, simulated: engineering series at each packet type's cadence, encoded
as the packet stream a ground station would receive, with optional link impairments.

Solar-wind speed at L4 comes from replaying real data (STEREO-A speeds packaged with
l4station, laid onto the simulated window) or from the heliosphere model's nature run
(:func:`l4station.heliosphere.osse.nature_run`). The other quantities follow from the speed:
density from constant dynamic pressure (n = 6.5 cm^-3 (400/v)^2; the anticorrelation of
McGregor et al. 2011, JGR 116, A03101), temperature from the Lopez & Freeman (1986, JGR 91, 1701)
T-V relation, the field from the Parker spiral (|B| 5 nT at 1 au, sectors flipping at fast-wind
edges, normal component a 1-hour red-noise process). Optional events: an interplanetary shock
(jumps of 1.4 in speed, 2.5 in density and field, 3 in temperature) and a solar energetic
particle event (>=10 MeV peak 300 pfu, S2, rise 6 h, decay e-folding 18 h). Amplitudes not cited
are estimated.

The Lopez & Freeman (1986) T-V relation: 53,000 K at 400 km/s (slow wind), 164,000 K at
600 km/s (fast wind):

>>> lopez_freeman_temperature_k([400.0, 600.0]).round().tolist()
[53290.0, 164000.0]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from astropy.time import Time

from l4station.arrays import ar1
from l4station.constants import AU_KM, DAY_S, SUN_SIDEREAL_RAD_S
from l4station.ground import packets

REPLAY_START = "2012-01-01"          # STEREO-A speeds from here (outside the held-back window)
CHANNELS_MEV = {"p1": 1.0, "p5": 5.0, "p10": 10.0, "p30": 30.0, "p50": 50.0, "p100": 100.0}


@dataclass
class Impairments:
    """Link impairments: fraction of time lost in outages, fraction of packets duplicated and
    reordered, bit error rate."""

    gaps: float = 0.0
    duplicates: float = 0.0
    reorder: float = 0.0
    bit_error_rate: float = 0.0

    def check(self) -> None:
        for name in ("gaps", "duplicates", "reorder"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"--{name} must be a fraction in [0, 1), got {getattr(self, name)}")
        if not 0.0 <= self.bit_error_rate < 1e-2:
            raise ValueError(f"--bit-error-rate must be in [0, 0.01), got {self.bit_error_rate}")


@dataclass
class Stream:
    """A simulated downlink: the bytes, and what went into them (``out``: the file written)."""

    data: bytes
    packets: dict[str, int]
    impaired: dict[str, int] = field(default_factory=dict)
    start_us: int = 0
    stop_us: int = 0
    framed: bool = False
    out: str = ""

    def to_json(self) -> dict:
        return {"out": self.out, "bytes": len(self.data), "framed": self.framed, "packets": self.packets,
                "impairments": self.impaired, "start": _iso(self.start_us), "stop": _iso(self.stop_us)}

    def __str__(self) -> str:
        lines = [f"{sum(self.packets.values())} packets{' in transfer frames' if self.framed else ''} "
                 f"({len(self.data) / 1e6:.2f} MB) from {_iso(self.start_us)} to {_iso(self.stop_us)} written to "
                 f"{self.out}", "  " + ", ".join(f"{name} {n}" for name, n in self.packets.items())]
        if self.impaired:
            lines.append("  impairments: " + ", ".join(f"{k} {v}" for k, v in self.impaired.items()))
        return "\n".join(lines)


def _iso(t_us: int) -> str:
    return Time(t_us / 1e6, format="unix").isot + "Z"


def speed_series(start: Time, hours: float, source: str = "replay", seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Hourly solar-wind speed at the station: (hours since start, km/s), gaps filled linearly."""
    n = int(np.ceil(hours)) + 2
    if source == "replay":
        from l4station.heliosphere import insitu
        series = insitu.packaged()["L4"]
        t0 = Time(REPLAY_START).mjd
        v = series.at(t0 + np.arange(n) / 24.0)
    elif source == "model":
        from l4station.heliosphere import osse
        v = osse.nature_run(start, days=int(np.ceil(n / 24)) + 1, seed=seed).truth["L4"].v_kms[:n]
    else:
        raise ValueError(f"unknown --source {source!r}: use 'replay' (real STEREO-A speeds) or 'model'")
    good = np.isfinite(v)
    if not good.any():
        raise ValueError("no speeds in the replayed window")
    h = np.arange(n, dtype=float)
    return h, np.interp(h, h[good], v[good])


def _red_noise(rng, n: int, step_s: float, tau_s: float) -> np.ndarray:
    """Unit-variance first-order autoregressive series with correlation time tau."""
    x = ar1(rng.standard_normal(n), np.exp(-step_s / tau_s), stationary_start=False)
    return x / max(np.std(x), 1e-9) if n > 10 else x


def lopez_freeman_temperature_k(v_kms) -> np.ndarray:
    """Expected proton temperature (K) for speed v (km/s), Lopez & Freeman (1986) eq. 5."""
    v = np.asarray(v_kms, dtype=float)
    return np.where(v < 500, (0.031 * v - 5.1) ** 2, 0.51 * v - 142) * 1e3


def measurements(start: Time, hours: float, *, source: str = "replay", seed: int = 1,
                 events: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """Engineering series of every packet type: {type: {"t_us": ..., field: ...}}."""
    rng = np.random.default_rng(seed)
    h, v_hourly = speed_series(start, hours, source, seed)
    start_us = int(round((start.unix) * 1e6))
    duration_s = hours * 3600.0
    shock_s = 0.55 * duration_s if events else np.inf
    sep_s = 0.35 * duration_s if events else np.inf
    out = {}
    for ptype in packets.dictionary().values():
        t_s = np.arange(0.0, duration_s, ptype.cadence_s)
        n = len(t_s)
        v = np.interp(t_s / 3600.0, h, v_hourly) * (1 + 0.01 * _red_noise(rng, n, ptype.cadence_s, 1800.0))
        after = t_s >= shock_s
        jump = np.where(after, 1.0, 0.0) * np.exp(-np.clip(t_s - shock_s, 0, None) / 43200.0)
        v = v * (1 + 0.4 * jump)
        values = {"t_us": start_us + (t_s * 1e6).astype(np.int64)}
        if ptype.name == "plasma":
            density = 6.5 * (400.0 / v) ** 2 * np.exp(0.15 * _red_noise(rng, n, ptype.cadence_s, 3600.0))
            values |= {"density": density * (1 + 1.5 * jump), "vr": v,
                       "vt": 15 * _red_noise(rng, n, ptype.cadence_s, 3600.0),
                       "vn": 15 * _red_noise(rng, n, ptype.cadence_s, 3600.0),
                       "temperature": lopez_freeman_temperature_k(v) * np.exp(0.2 * _red_noise(rng, n, ptype.cadence_s, 3600.0))
                       * (1 + 2.0 * jump),
                       "quality": np.zeros(n)}
        elif ptype.name == "mag":
            spiral = np.arctan(SUN_SIDEREAL_RAD_S * AU_KM / v)
            sector = np.where(np.sin(2 * np.pi * t_s / (6.8 * DAY_S) + rng.uniform(0, 6.3)) >= 0, 1.0, -1.0)
            b = 5.0 * (1 + 1.5 * jump) * np.exp(0.2 * _red_noise(rng, n, ptype.cadence_s, 7200.0))
            bn = 2.0 * _red_noise(rng, n, ptype.cadence_s, 3600.0) * (1 + 1.5 * jump)
            b_plane = np.sqrt(np.clip(b ** 2 - bn ** 2, 0.25, None))
            values |= {"br": sector * b_plane * np.cos(spiral), "bt": -sector * b_plane * np.sin(spiral),
                       "bn": bn, "quality": np.zeros(n)}
        elif ptype.name == "particles":
            since = np.clip(t_s - sep_s, 0, None)
            profile = np.where(t_s >= sep_s, (1 - np.exp(-since / 7200.0)) ** 2 * np.exp(-since / 64800.0), 0.0)
            p10 = 0.15 * np.exp(0.1 * _red_noise(rng, n, ptype.cadence_s, 3600.0)) + 300.0 * profile / 0.56
            for name, energy in CHANNELS_MEV.items():
                gamma = np.where(profile > 1e-3, 2.0, 1.3)
                values[name] = p10 * (energy / 10.0) ** -gamma
            values["quality"] = np.zeros(n)
        else:
            values |= {"bus_voltage": 28.0 + 0.05 * _red_noise(rng, n, ptype.cadence_s, 600.0),
                       "plasma_temp": 21.0 + 0.5 * _red_noise(rng, n, ptype.cadence_s, 7200.0),
                       "mag_temp": 12.0 + 0.5 * _red_noise(rng, n, ptype.cadence_s, 7200.0),
                       "recorder_fill": 100.0 * ((t_s / DAY_S) % 1.0) * 0.8,
                       "mode": np.zeros(n)}
        out[ptype.name] = values
    return out


def simulate(start: Time, hours: float, *, source: str = "replay", seed: int = 1, events: bool = True,
             impairments: Impairments = Impairments(), framed: bool = False) -> Stream:
    """The packet stream of ``hours`` of observations from ``start``, in time order as downlinked,
    then impaired; ``framed``: carried in CCSDS transfer frames (:mod:`l4station.ground.frames`),
    the bit errors falling on the frames."""
    impairments.check()
    if not 0 < hours <= 24 * 366:
        raise ValueError(f"--hours must be in (0, 8784], got {hours}")
    if not (packets.CUC_FIRST_UNIX_S <= start.unix and start.unix + hours * 3600 <= packets.CUC_LAST_UNIX_S):
        raise ValueError(f"--start {start.utc.isot[:10]}: packet times (CCSDS CUC, 32-bit seconds from 1958) run "
                         "from 1958-01-01 to 2094-02-06; choose a start and --hours in between")
    series = measurements(start, hours, source=source, seed=seed, events=events)
    flat, starts, lengths, times, counts = [], [], [], [], {}
    base = 0
    for ptype in packets.dictionary().values():
        values = series[ptype.name]
        n = len(values["t_us"])
        flat.append(packets.encode(ptype, values["t_us"], np.arange(n), values).ravel())
        starts.append(base + np.arange(n) * ptype.octets)
        lengths.append(np.full(n, ptype.octets))
        times.append(values["t_us"])
        counts[ptype.name] = n
        base += n * ptype.octets
    t_us = np.concatenate(times)
    order = np.argsort(t_us, kind="stable")
    starts, lengths, t_sorted = np.concatenate(starts)[order], np.concatenate(lengths)[order], t_us[order]
    rng = np.random.default_rng(seed + 1)
    impaired = {}
    keep = np.ones(len(order), dtype=bool)
    if impairments.gaps > 0:       # outages of 5-60 minutes until the lost fraction is reached
        span = t_sorted[-1] - t_sorted[0]
        lost = 0
        while lost < impairments.gaps * span:
            length = int(rng.uniform(300, 3600) * 1e6)
            begin = t_sorted[0] + int(rng.uniform(0, span))
            keep &= ~((t_sorted >= begin) & (t_sorted < begin + length))
            lost += length
        impaired["dropped"] = int(np.count_nonzero(~keep))
    index = np.flatnonzero(keep)
    if impairments.duplicates > 0:  # retransmitted copies, downlinked right after the original
        dup = rng.choice(index, int(impairments.duplicates * len(index)), replace=False)
        index = np.sort(np.concatenate([index, dup]), kind="stable")
        impaired["duplicated"] = len(dup)
    if impairments.reorder > 0:     # a packet swapped with one up to 7 places later
        swap = rng.choice(max(len(index) - 8, 0), int(impairments.reorder * len(index)), replace=False)
        for i in swap:
            j = i + int(rng.integers(1, 8))
            index[i], index[j] = index[j], index[i]
        impaired["reordered"] = len(swap)
    stream = _gather(np.concatenate(flat), starts[index], lengths[index])
    if framed:
        from l4station.ground import frames
        stream = np.frombuffer(frames.station_frames(stream.tobytes()), dtype=np.uint8).copy()
    if impairments.bit_error_rate > 0:
        flips = rng.binomial(len(stream) * 8, impairments.bit_error_rate)
        where = rng.integers(0, len(stream) * 8, flips)
        np.bitwise_xor.at(stream, where // 8, (1 << (where % 8)).astype(np.uint8))
        impaired["bits_flipped"] = int(flips)
    return Stream(stream.tobytes(), counts, impaired, int(t_sorted[0]), int(t_sorted[-1]), framed)


def _gather(flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The byte runs flat[start:start+length], one after another."""
    ends = np.cumsum(lengths)
    within = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)
    return flat[np.repeat(starts, lengths) + within]


def noise_archive(url: str, days: float, start_us: int, *, seed: int = 3, source: str = "noise") -> None:
    """Fill the archive at ``url`` with ``days`` of every science dataset at its cadence, values
    uniform in 1-500, written straight through the store (no packets, no alerts): an archive of
    a realistic size in seconds, for load, memory and speed measurements."""
    from l4station.ground.store import Archive

    rng = np.random.default_rng(seed)
    with Archive(url) as archive, archive.transaction() as cursor:
        batch = archive.new_batch(cursor, source, start_us)
        for name in ("mag", "plasma", "particles"):
            p = packets.dictionary()[name]
            n = int(days * DAY_S / p.cadence_s)
            columns = {"t_us": start_us + np.arange(n, dtype=np.int64) * int(p.cadence_s * 1e6),
                       "seq": np.arange(n) % packets.SEQUENCE_MODULO}
            columns |= {f.name: np.round(rng.uniform(1, 500, n), 2) for f in p.fields}
            archive.insert(cursor, name, columns, start_us, batch)
