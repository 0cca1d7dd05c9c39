// Live dashboard in the manner of NOAA's Real Time Solar Wind: stacked panels over one time axis,
// polled from /api/panels, /api/status, /api/alerts and /api/dose. Plotly is served by our own server.
"use strict";
const REFRESH_MS = Number(new URLSearchParams(location.search).get("refresh") || 5000);
const PANELS = [
  { keys: ["bt", "bn"], names: ["|B|", "Bn"], colors: ["#eee", "#e33"], title: "B (nT)" },
  { keys: ["density"], names: ["density"], colors: ["#f90"], title: "Density (cm⁻³)" },
  { keys: ["speed"], names: ["speed"], colors: ["#c7f"], title: "Speed (km/s)" },
  { keys: ["temperature"], names: ["temperature"], colors: ["#4c4"], title: "Temperature (K)", log: true },
  { keys: ["p10"], names: ["≥10 MeV protons"], colors: ["#4bf"], title: "≥10 MeV (pfu)", log: true },
];
let span = "1-day";

function layout(data) {
  const n = PANELS.length, gap = 0.02, h = (1 - gap * (n - 1)) / n;
  const el = document.getElementById("panels");
  const lay = { height: Math.max(640, window.innerHeight - el.offsetTop - 8), paper_bgcolor: "#111", plot_bgcolor: "#181818", font: { color: "#ddd" }, showlegend: false,
                margin: { l: 70, r: 20, t: 10, b: 40 }, shapes: [], hovermode: "x unified",
                xaxis: { type: "date", anchor: "y" + n, range: [data.start, data.stop], gridcolor: "#333" } };
  PANELS.forEach((p, i) => {
    const top = 1 - i * (h + gap);
    lay["yaxis" + (i ? i + 1 : "")] = { domain: [top - h, top], title: { text: p.title, font: { size: 11 } },
      type: p.log ? "log" : "linear", gridcolor: "#333", zeroline: p.keys.includes("bn") };
  });
  lay.shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y" + n, y0: 10, y1: 10,
                    line: { color: "#db2", dash: "dot", width: 1 } });           // S1 threshold
  for (const g of data.gaps) {
    lay.shapes.push({ type: "rect", xref: "x", yref: "paper", x0: g.start, x1: g.stop, y0: 0, y1: 1,
                      fillcolor: "rgba(200,60,60,0.25)", line: { width: 0 }, layer: "below" });
  }
  return lay;
}

function traces(data) {
  const out = [];
  PANELS.forEach((p, i) => p.keys.forEach((k, j) => {
    const s = data.series[k];
    out.push({ x: s.t, y: s.v, name: p.names[j], type: "scattergl", mode: "lines",
               line: { color: p.colors[j], width: 1 }, xaxis: "x", yaxis: "y" + (i ? i + 1 : ""), connectgaps: false });
  }));
  return out;
}

function age(seconds) {
  if (seconds === null) return "–";
  if (seconds < 120) return seconds.toFixed(0) + " s";
  if (seconds < 7200) return (seconds / 60).toFixed(0) + " min";
  return (seconds / 3600).toFixed(1) + " h";
}

async function refresh() {
  const [panels, status, alerts] = await Promise.all(
    [`/api/panels?span=${span}`, "/api/status", "/api/alerts?hours=24"].map(u => fetch(u).then(r => r.json())));
  Plotly.react("panels", traces(panels), layout(panels), { displaylogo: false, responsive: true });
  const plasma = status.datasets.plasma;
  document.getElementById("latest").textContent = plasma.last ? "latest " + plasma.last : "no data yet";
  document.getElementById("latency").textContent = age(plasma.age_s);
  const stale = Object.values(status.datasets).some(d => d.age_s !== null && d.age_s > 3 * d.cadence_s);
  const gapEl = document.getElementById("gap");
  gapEl.textContent = stale ? "DATA GAP: no new data" : panels.gaps.length ? `${panels.gaps.length} gaps in view` : "no gap";
  gapEl.className = stale ? "bad" : "ok";
  document.getElementById("updated").textContent = new Date().toISOString().slice(11, 19) + "Z";
  const box = document.getElementById("alerts");
  box.replaceChildren(...alerts.alerts.slice(0, 5).map(a => {
      const div = document.createElement("div");
      const red = a.level === "red" || a.kind === "shock" || /^S[2-5]$/.test(a.level);
      div.className = red ? "red" : "yellow";
      div.textContent = `${a.level.toUpperCase()} ${a.start}: ${a.message}`;
      return div;
    }));
  document.body.dataset.ready = "1";
}

// The forecast panel: observed at L1 and at the station, the latest run at Earth with its p10-p90
// band and the issue time, the latest watches and the verification by lead day.
async function refreshForecast() {
  const f = await fetch("/api/forecast/panel").then(r => r.json());
  if (!f.run) return;
  const r = f.run;
  document.getElementById("run").textContent = `run ${r.run_id}` + (r.flags.length ? ` (${r.flags.join(", ")})` : "");
  const traces = [
    { x: r.t, y: r.p90, mode: "lines", line: { width: 0 }, name: "p90", hoverinfo: "skip" },
    { x: r.t, y: r.p10, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(120,170,255,0.3)", name: "p10–p90" },
    { x: r.t, y: r.vr, mode: "lines", line: { color: "#7af", width: 2 }, name: "forecast at Earth" },
    { x: f.observed.L1.t, y: f.observed.L1.v, mode: "lines", line: { color: "#eee", width: 1 }, name: "observed at L1" },
    { x: f.observed.L4.t, y: f.observed.L4.v, mode: "lines", line: { color: "#c7f", width: 1, dash: "dot" }, name: "observed at L4" },
  ];
  const lay = { paper_bgcolor: "#111", plot_bgcolor: "#181818", font: { color: "#ddd" }, height: 360,
                margin: { l: 70, r: 20, t: 10, b: 40 }, xaxis: { type: "date", gridcolor: "#333" },
                yaxis: { title: { text: "Speed (km/s)" }, gridcolor: "#333" }, legend: { orientation: "h" },
                shapes: [{ type: "line", xref: "x", yref: "paper", x0: r.issue, x1: r.issue, y0: 0, y1: 1,
                           line: { color: "#db2", dash: "dash", width: 1 } }] };
  Plotly.react("forecast-plot", traces, lay, { displaylogo: false, responsive: true });
  document.getElementById("watches").replaceChildren(...f.watches.map(w => {
    const pre = document.createElement("pre");
    pre.textContent = w.message;
    return pre;
  }));
  const cell = (x, d) => x === null ? "—" : x.toFixed(d);
  document.querySelector("#verification tbody").replaceChildren(...f.verification.map(s => {
    const tr = document.createElement("tr");
    for (const v of [s.lead_days, s.n, cell(s.mae_kms, 1), cell(s.rmse_kms, 1), cell(s.skill_vs_persistence, 2),
                     cell(s.skill_vs_recurrence, 2),
                     s.band_coverage === null ? "—" : `${Math.round(100 * s.band_coverage)}%`]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    return tr;
  }));
  document.body.dataset.forecast = "1";
}

// The radiation panel: each crew scenario's BFO dose rate over the last day, what it adds up to
// against NASA's 30-day limit, and the latest integral proton spectrum.
const DOSE_COLOURS = ["#f66", "#fb4", "#6c6", "#6af"];
async function refreshDose() {
  const d = await fetch("/api/dose?hours=24").then(r => r.json());
  if (d.spectrum) {
    document.getElementById("spectrum").textContent = `${d.spectrum.time}: ` + d.spectrum.energy_mev.map(
      (e, i) => `≥${e} MeV ${d.spectrum.integral_pfu[i] === null ? "–" : d.spectrum.integral_pfu[i].toPrecision(2)}`).join(", ") + " pfu";
  }
  const traces = d.scenarios.map((s, i) => ({ x: s.t, y: s.v, name: s.name, mode: "lines",
                                              line: { color: DOSE_COLOURS[i], width: 1 }, connectgaps: false }));
  const lay = { paper_bgcolor: "#111", plot_bgcolor: "#181818", font: { color: "#ddd" }, height: 300,
                margin: { l: 70, r: 20, t: 10, b: 40 }, xaxis: { type: "date", range: [d.start, d.stop], gridcolor: "#333" },
                yaxis: { title: { text: "BFO rate (µGy-Eq/h)" }, type: "log", gridcolor: "#333" }, legend: { orientation: "h" } };
  Plotly.react("dose-plot", traces, lay, { displaylogo: false, responsive: true });
  const fixed = (x, n) => x === null ? "—" : x.toPrecision(n);
  document.querySelector("#dose tbody").replaceChildren(...d.scenarios.map(s => {
    const tr = document.createElement("tr");
    if (s.fraction_of_30day_limit >= 0.5) tr.className = "red";
    for (const v of [s.name, s.shield_gcm2, fixed(s.rate_mgy_eq_h, 2), fixed(s.dose_mgy_eq, 3),
                     `${(100 * s.fraction_of_30day_limit).toFixed(1)}%`]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    return tr;
  }));
  document.body.dataset.dose = "1";
}

document.querySelectorAll("#spans button").forEach(b => b.addEventListener("click", () => {
  span = b.dataset.span;
  document.querySelectorAll("#spans button").forEach(x => x.classList.toggle("active", x === b));
  refresh();
}));
refresh();
setInterval(refresh, REFRESH_MS);
refreshForecast();
setInterval(refreshForecast, Math.max(REFRESH_MS, 60000));
refreshDose();
setInterval(refreshDose, REFRESH_MS);
