"""Write tests/data/rtsw/rtsw_{wind,mag}_1m.json: six hours in NOAA SWPC's current RTSW object
layout (NWS Service Change Notice 26-21), newest first, two spacecraft per minute.

Speeds are real: OMNI's hourly values for 2008-08-06 00:00-05:59 UTC (tests/data/solarwind,
BRaVDA files, Lang & Owens 2019), held over each minute. SOLAR1 is the active spacecraft until
03:00, IMAP after (one switch); IMAP reads 5 km/s faster. What a live file holds and a feed must
survive is planted: density fill (-9999) in minute 10, suspect quality in minute 20, an error
row in minute 30, one repeated row and one row out of order. Magnetic field values are
illustrative (5 nT, Bz a slow sine). Run from the repository root: python builders/rtsw_sample.py
"""
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
table = np.loadtxt(ROOT / "tests/data/solarwind/OMNI_observations.txt")
day = table[(table[:, 0] == 2008) & (table[:, 1] == 219) & (table[:, 3] < 9999)]     # 2008-08-06 = day 219
speeds = {int(h): float(v) for _, _, h, v in day if h < 6}
start = np.datetime64("2008-08-06T00:00")
wind, mag = [], []
for minute in range(6 * 60):
    t = str(start + np.timedelta64(minute, "m")) + ":00"
    v = speeds[minute // 60]
    for craft, offset in (("SOLAR1", 0.0), ("IMAP", 5.0)):
        active = (craft == "SOLAR1") == (minute < 180)
        quality = 1 if minute == 20 else 2 if minute == 30 else 0
        wind.append({"time_tag": t, "source": craft, "active": active, "proton_speed": round(v + offset, 1),
                     "proton_density": -9999 if minute == 10 else round(6.5 * (400 / v) ** 2, 2),
                     "proton_temperature": 80000.0, "proton_vx_gse": round(-(v + offset), 1),
                     "overall_quality": quality})
        mag.append({"time_tag": t, "source": craft, "active": active, "bt": 5.0,
                    "bx_gsm": 3.0, "by_gsm": -3.0, "bz_gsm": round(2.0 * np.sin(minute / 30), 2),
                    "theta_gsm": 0.0, "phi_gsm": 315.0, "overall_quality": quality})
for rows in (wind, mag):
    rows.reverse()                                   # newest first
    rows.insert(5, dict(rows[5]))                     # a repeated row
    rows[100], rows[102] = rows[102], rows[100]       # one spacecraft's two minutes swapped
out = ROOT / "tests/data/rtsw"
out.mkdir(exist_ok=True)
(out / "rtsw_wind_1m.json").write_text(json.dumps(wind, separators=(",", ":")))
(out / "rtsw_mag_1m.json").write_text(json.dumps(mag, separators=(",", ":")))
