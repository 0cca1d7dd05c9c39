"""In-situ solar-wind speed series: what an observer measured, where and when.

A :class:`Series` is hourly speed along an observer's path in the model frame (Earth-relative
longitude, heliocentric distance). :func:`read_folder` reads a folder laid out as the BRaVDA
data files (Lang & Owens 2019, Space Weather 17, 59, doi:10.1029/2018SW001857; Zenodo
doi:10.5281/zenodo.7892408): ``OMNI_observations.txt``, ``STEREO-A_observations.txt``,
``STEREO-B_observations.txt`` (``YEAR DOY HOUR V``, 9999 missing) and daily positions
``earth_2000_2030.lst``, ``stereoa_2006_2029.lst``, ``stereob_2006_2029.lst``
(``YEAR DAY RAD_AU HG_LAT HG_LON``, Carrington longitude). OMNI stands for L1 and Earth,
STEREO-A (ahead) for an L4 station and STEREO-B (behind) for an L5 station.

A series answers at the hourly sample nearest in time, within half an hour; NaN where the
observer measured nothing:

>>> s = Series("L1", np.array([0.0, 1 / 24, 2 / 24]), np.array([400.0, 410.0, np.nan]),
...            np.zeros(3), np.full(3, AU_KM))
>>> s.at([1 / 24, 0.02, 2 / 24, 5.0]).tolist()
[410.0, 400.0, nan, nan]
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l4station.constants import AU_KM
from l4station.geometry import wrap_degrees

MJD_2000 = 51544.0   # MJD of 2000-01-01T00:00 UTC
FILES = {  # role: (speed file, position file)
    "L1": ("OMNI_observations.txt", "earth_2000_2030.lst"),
    "L4": ("STEREO-A_observations.txt", "stereoa_2006_2029.lst"),
    "L5": ("STEREO-B_observations.txt", "stereob_2006_2029.lst"),
}
EARTH_POSITIONS = "earth_2000_2030.lst"


@dataclass(frozen=True)
class Series:
    """Speed ``v_kms`` (NaN where missing) at times ``mjd`` (UTC), with the observer's Earth-relative
    longitude ``lon_deg`` and heliocentric distance ``r_km`` at those times."""

    name: str
    mjd: np.ndarray
    v_kms: np.ndarray
    lon_deg: np.ndarray
    r_km: np.ndarray

    def window(self, start_mjd: float, stop_mjd: float) -> Series:
        """The samples with start <= mjd < stop."""
        keep = (self.mjd >= start_mjd) & (self.mjd < stop_mjd)
        return Series(self.name, self.mjd[keep], self.v_kms[keep], self.lon_deg[keep], self.r_km[keep])

    def at(self, mjd) -> np.ndarray:
        """Speed at the given times, NaN where no sample lies within half an hour."""
        mjd = np.asarray(mjd, dtype=float)
        if len(self.mjd) == 0:
            return np.full(mjd.shape, np.nan)
        i = np.clip(np.searchsorted(self.mjd, mjd), 1, len(self.mjd) - 1)
        nearest = np.where(np.abs(self.mjd[i - 1] - mjd) <= np.abs(self.mjd[i] - mjd), i - 1, i)
        return np.where(np.abs(self.mjd[nearest] - mjd) <= 0.5 / 24 + 1e-9, self.v_kms[nearest], np.nan)


def _year_day_mjd(year: np.ndarray, day: np.ndarray) -> np.ndarray:
    year = year.astype(int)
    jan1 = np.array([np.datetime64(f"{y}-01-01") for y in np.unique(year)], dtype="datetime64[D]")
    first = dict(zip(np.unique(year), (jan1 - np.datetime64("2000-01-01")).astype(int) + MJD_2000))
    return np.array([first[y] for y in year]) + day - 1


def _load(path: Path, columns: int, skip: int) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"{path}: no such file; --data needs a folder laid out like shared/data/solarwind")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)        # an empty file: refused just below
            table = np.loadtxt(path, skiprows=skip, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a table of {columns} numbers per row ({exc})") from None
    if table.shape[1] != columns:
        raise ValueError(f"{path}: expected {columns} columns per row, found {table.shape[1]}")
    return table


def read_speeds(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Hourly times (MJD, start of the hour) and speeds (km/s, NaN for 9999) of one speed file."""
    table = _load(path, 4, 0)
    mjd = _year_day_mjd(table[:, 0], table[:, 1]) + table[:, 2] / 24
    v = np.where(table[:, 3] >= 9999, np.nan, table[:, 3])
    order = np.argsort(mjd, kind="stable")
    return mjd[order], v[order]


def read_positions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily times (MJD), distance (km) and Carrington longitude (deg, unwrapped) of one position file."""
    table = _load(path, 5, 1)
    return (_year_day_mjd(table[:, 0], table[:, 1]), table[:, 2] * AU_KM,
            np.degrees(np.unwrap(np.radians(table[:, 4]))))


def _assemble(speeds: dict, positions: dict, earth: tuple) -> dict[str, Series]:
    """Series per role from (mjd, v) speeds and (mjd, r, lon) positions keyed by role, Earth's (mjd, r, lon)."""
    out = {}
    for role in FILES:
        mjd, v = speeds[role]
        pos_mjd, r, lon = positions[role]
        if len(mjd) and (mjd[0] < pos_mjd[0] or mjd[-1] > pos_mjd[-1] + 1):
            raise ValueError(f"positions of {role} ({FILES[role][1]}) do not cover its speeds ({FILES[role][0]})")
        relative = np.interp(mjd, pos_mjd, lon) - np.interp(mjd, earth[0], earth[2])
        out[role] = Series(role, mjd, v, wrap_degrees(relative), np.interp(mjd, pos_mjd, r))
    return out


def read_folder(folder: str | Path) -> dict[str, Series]:
    """The three observers of a BRaVDA-layout folder, keyed ``L1`` (OMNI), ``L4`` (STEREO-A) and
    ``L5`` (STEREO-B), each placed by its own position file relative to Earth's."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder; --data needs a folder laid out like shared/data/solarwind")
    earth = read_positions(folder / EARTH_POSITIONS)
    speeds = {role: read_speeds(folder / f) for role, (f, _) in FILES.items()}
    positions = {role: read_positions(folder / f) for role, (_, f) in FILES.items()}
    return _assemble(speeds, positions, earth)


PACKAGED = Path(__file__).with_name("data") / "bravda_speeds.npz"


def pack(folder: str | Path, out: str | Path = PACKAGED) -> None:
    """Store a BRaVDA-layout folder compactly (hourly speeds as int16, daily positions) for
    :func:`packaged`, so that runs need no data folder."""
    folder = Path(folder)
    arrays = {}
    for role, (speed_file, position_file) in FILES.items():
        mjd, v = read_speeds(folder / speed_file)
        arrays[f"{role}_hour"] = np.round((mjd - MJD_2000) * 24).astype(np.int32)
        arrays[f"{role}_v"] = np.where(np.isnan(v), -1, v).astype(np.int16)
        arrays[f"{role}_pos"] = np.stack(read_positions(folder / position_file))
    arrays["earth_pos"] = np.stack(read_positions(folder / EARTH_POSITIONS))
    np.savez_compressed(out, **arrays)


def packaged() -> dict[str, Series]:
    """The shared BRaVDA data (OMNI, STEREO-A, STEREO-B, 2007-2023, the held-back window absent),
    as :func:`read_folder` returns it."""
    with np.load(PACKAGED) as z:
        speeds = {role: (z[f"{role}_hour"] / 24 + MJD_2000, np.where(z[f"{role}_v"] < 0, np.nan, z[f"{role}_v"]).astype(float))
                  for role in FILES}
        positions = {role: tuple(z[f"{role}_pos"]) for role in FILES}
        earth = tuple(z["earth_pos"])
    return _assemble(speeds, positions, earth)
