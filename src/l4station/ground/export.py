"""Daily files for the archives of the field: ISTP-compliant CDF (through cdflib, whose ISTP
checks must pass without a warning) and CF netCDF (through xarray).

One file per packet type and UTC day, named as ISTP logical files:
``l4_<dataset>_l2_<yyyymmdd>_v01.cdf`` (.nc for netCDF). Attributes follow the ISTP/IACG
guidelines (SPDF, "ISTP Metadata Guidelines": global and variable attributes) and the CF
conventions 1.10 for netCDF.

An export request names a UTC day and a format:

>>> check_request("2026-11-20", "cdf")
np.datetime64('2026-11-20')
>>> check_request("20/11/2026", "cdf")
Traceback (most recent call last):
...
ValueError: --day '20/11/2026' is not a date: write YYYY-MM-DD, e.g. 2026-11-20
"""
from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from l4station.constants import DAY_US
from l4station.ground import packets
from l4station.ground.store import Archive

CDF_FILL = -1.0e31
TT2000_FILL = np.int64(-2 ** 63)    # ISTP: the fill of CDF_TIME_TT2000, 9999-12-31T23:59:59.999999999


def _dataset(name: str, columns: dict[str, np.ndarray], day: np.datetime64) -> xr.Dataset:
    ptype = packets.dictionary()[name]
    epoch = columns["t_us"].astype("datetime64[us]").astype("datetime64[ns]")
    source = f"l4_{name}_l2"
    date = str(day).replace("-", "")
    ds = xr.Dataset(coords={"Epoch": ("Epoch", epoch, {
        "CATDESC": "Sample time, UTC", "FIELDNAM": "Epoch", "VAR_TYPE": "support_data", "UNITS": "ns",
        "TIME_BASE": "J2000", "TIME_SCALE": "Terrestrial Time", "REFERENCE_POSITION": "Rotating Earth Geoid",
        "LABLAXIS": "Epoch", "FORMAT": "a32", "FILLVAL": TT2000_FILL, "DISPLAY_TYPE": "time_series",
        "VALIDMIN": np.datetime64("1990-01-01T00:00:00", "ns"), "VALIDMAX": np.datetime64("2100-01-01T00:00:00", "ns"),
        "SCALETYP": "linear", "MONOTON": "INCREASE"})})
    for f in ptype.fields:
        values = columns[f.name]
        finite = values[np.isfinite(values)]
        ds[f.name] = ("Epoch", values, {
            "CATDESC": f.description, "FIELDNAM": f.name, "VAR_TYPE": "data", "DEPEND_0": "Epoch",
            "DISPLAY_TYPE": "time_series", "UNITS": f.units or " ", "LABLAXIS": f.name,
            "FILLVAL": CDF_FILL, "FORMAT": "E12.4" if f.calibration == "log10" else "F10.3",
            "VALIDMIN": float(finite.min()) if len(finite) else 0.0, "VALIDMAX": float(finite.max()) if len(finite) else 0.0,
            "SCALETYP": "log" if f.calibration == "log10" else "linear"})
    ds.attrs = {
        "Project": "l4station", "Source_name": "L4>Sun-Earth L4 space-weather station", "Discipline": "Space Physics>Heliospheric Science",
        "Data_type": "L2>Level 2 engineering units", "Descriptor": f"{name.upper()}>{ptype.description}",
        "Data_version": "1", "Logical_file_id": f"{source}_{date}_v01", "Logical_source": source,
        "Logical_source_description": ptype.description, "PI_name": "l4station operations team",
        "PI_affiliation": "l4station", "TEXT": f"{ptype.description}, calibrated from CCSDS packets (APID {ptype.apid:#x}).",
        "Instrument_type": "Particles (space)" if name == "particles" else "Plasma and Solar Wind" if name == "plasma"
        else "Magnetic Fields (space)" if name == "mag" else "Engineering",
        "Mission_group": "l4station", "Generated_by": "l4station", "Time_resolution": f"{ptype.cadence_s:g} s",
    }
    return ds


FORMATS = {"cdf": "cdf", "netcdf": "nc"}   # --format: file extension


def check_request(day: str, fmt: str) -> np.datetime64:
    """The UTC day of an export request (YYYY-MM-DD), after checking it and the format."""
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise ValueError(f"--day {day!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-20") from None
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: use cdf or netcdf")
    return np.datetime64(date, "D")


@dataclass(frozen=True)
class Exported:
    """The files one UTC ``day`` of the archive was written to (``l4station export``)."""

    day: str
    files: list[Path]

    def to_json(self) -> dict:
        return {"files": [str(p) for p in self.files]}

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.files) if self.files else f"no data on {self.day}"


def export_day(archive: Archive, day: str, out: str | Path, fmt: str = "cdf") -> list[Path]:
    """Write one file per packet type holding data on UTC ``day`` (YYYY-MM-DD); returns the paths
    written (types with no data that day are skipped). Files are written aside and moved into
    ``out`` at the end, so a failure leaves ``out`` as it was (folders made for it are removed)."""
    date = check_request(day, fmt)
    out = Path(out)
    start = int((date - np.datetime64("1970-01-01", "D")).astype(np.int64)) * DAY_US
    datasets = []
    for name in packets.dictionary():
        columns = archive.columns(name, start, start + DAY_US)
        if len(columns["t_us"]):
            datasets.append(_dataset(name, columns, date))
    if not datasets:
        return []
    made = [folder for folder in (out, *out.parents) if not folder.exists()]   # deepest first
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".l4station-export-") as scratch:
            names = [f"{ds.attrs['Logical_file_id']}.{FORMATS[fmt]}" for ds in datasets]
            for ds, name in zip(datasets, names):
                _write(ds, Path(scratch) / name, fmt)
            for name in names:
                os.replace(Path(scratch) / name, out / name)
                written.append(out / name)
    except BaseException:
        if made and not written:
            shutil.rmtree(made[-1], ignore_errors=True)
        raise
    return written


def _write(ds: xr.Dataset, path: Path, fmt: str) -> None:
    """One dataset to ``path``: ISTP CDF or CF netCDF."""
    if fmt == "cdf":
        import cdflib.xarray
        cdflib.xarray.xarray_to_cdf(ds, str(path), istp=True, terminate_on_warning=True)
        return
    cf = ds.copy()
    for var in cf.data_vars:
        cf[var].attrs = {"long_name": cf[var].attrs["CATDESC"], "units": cf[var].attrs["UNITS"].strip() or "1"}
        cf[var].encoding["_FillValue"] = CDF_FILL
    cf["Epoch"].attrs = {"long_name": "sample time", "standard_name": "time"}
    cf["Epoch"].encoding = {"units": "microseconds since 1970-01-01T00:00:00Z", "dtype": "int64"}
    cf.attrs = {"Conventions": "CF-1.10", "title": ds.attrs["Logical_source_description"],
                "source": ds.attrs["Source_name"], "history": "written by l4station", "id": ds.attrs["Logical_file_id"]}
    try:
        cf.to_netcdf(path)
    except RuntimeError as error:           # netCDF4 reports a failed write (a full disk) as "NetCDF: HDF error"
        raise OSError(f"the netCDF library could not write {path.name} ({error}): is the disk full?") from None
