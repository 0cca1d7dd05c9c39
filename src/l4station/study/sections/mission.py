"""Mission summary: what flies, where, for how long, and who receives its data."""
from __future__ import annotations

from l4station.study.report import Section, Table


def section(context) -> Section:
    c = context.config
    m, sc = c.mission, c.spacecraft
    data = {
        "name": m.name,
        "target": m.target,
        "epoch": m.epoch_time.isot,
        "duration_years": m.duration_years,
        "launch_window": [m.launch.earliest.isoformat(), m.launch.latest.isoformat()],
        "spacecraft": {"wet_mass_kg": sc.wet_mass_kg, "dry_mass_kg": sc.dry_mass_kg,
                       "isp_s": sc.isp_s, "power_w": sc.power_w},
        "data_rate_bps": sum(i.data_rate_bps for i in c.instruments),
        "realtime_rate_bps": sum(i.data_rate_bps for i in c.instruments if i.realtime),
        "stations": [s.name for s in c.ground.network],
        "forecast_targets": list(c.forecast.targets),
    }
    optical = (f"{sc.optical.aperture_m:g} m, {sc.optical.laser_power_w:g} W at {sc.optical.wavelength_nm:g} nm"
               if sc.optical else "none")
    overview = Table("Mission", ["Item", "Value"], [
        ["Target", m.target],
        ["Operations start (UTC)", m.epoch_time.isot[:10]],
        ["Duration", f"{m.duration_years:g} years"],
        ["Launch window (UTC)", f"{m.launch.earliest:%Y-%m-%d} .. {m.launch.latest:%Y-%m-%d}"],
        ["Wet / dry mass", f"{sc.wet_mass_kg:g} / {sc.dry_mass_kg:g} kg"],
        ["Propulsion Isp", f"{sc.isp_s:g} s"],
        ["Power", f"{sc.power_w:g} W"],
        ["RF terminal", f"{', '.join(sc.rf.bands)}; {sc.rf.power_w:g} W RF; {sc.rf.antenna_diameter_m:g} m HGA"],
        ["Optical terminal", optical],
        ["Forecast targets", ", ".join(c.forecast.targets)],
    ])
    instruments = Table("Instruments", ["Instrument", "Rate (bps)", "Real-time beacon"],
                        [[i.name, f"{i.data_rate_bps:,.0f}", "yes" if i.realtime else ""]
                         for i in c.instruments]
                        + [["total", f"{data['data_rate_bps']:,.0f}",
                            f"{data['realtime_rate_bps']:,.0f} bps"]])
    stations = Table("Ground network", ["Station", "Site", "Antenna", "Lat (deg)", "Lon (deg)", "Bands"],
                     [[s.name, s.complex, s.kind or f"{s.diameter_m:g} m", f"{s.latitude_deg:.4f}",
                       f"{s.longitude_deg:.4f}", ", ".join(s.bands)] for s in c.ground.network])
    return Section("mission", "Mission summary", data,
                   summary=f"{m.name}: a station at Sun–Earth {m.target} from {m.epoch_time.isot[:10]}, "
                           f"{m.duration_years:g} years of operations.",
                   tables=[overview, instruments, stations])
