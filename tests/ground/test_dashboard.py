"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright), with no
network: panels drawn, spans switch, alerts shown, and new data appear while ingest runs."""
import shutil
import socket
import threading
import time

import numpy as np
import pytest
import uvicorn

from l4station.ground import ingest
from l4station.ground.server import create_app
from l4station.ground.store import Archive

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is installed by .ci/services.sh")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PANEL_COLOURS = {"|B|": (0xEE, 0xEE, 0xEE), "density": (0xFF, 0x99, 0x00), "speed": (0xCC, 0x77, 0xFF),
                 "temperature": (0x44, 0xCC, 0x44), "protons": (0x44, 0xBB, 0xFF)}


@pytest.fixture
def server(tmp_path, two_days):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    data = two_days.data
    cut = len(data) * 3 // 4 // 25 * 25
    with Archive(url) as archive:                   # the first 36 hours; the rest arrives during the test
        ingest.ingest_bytes(archive, data, source="test")
        archive.connection.execute("DELETE FROM plasma WHERE t_us >= 1795262400000000")   # 2026-11-21T12Z on
        archive.connection.execute("DELETE FROM mag WHERE t_us >= 1795262400000000")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(url, token="t0ken")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", data, cut
    server.should_exit = True
    thread.join(10)


def _colour_pixels(png: bytes, rgb) -> int:
    import matplotlib.image as mpimg
    import io
    image = (mpimg.imread(io.BytesIO(png), format="png")[:, :, :3] * 255).round().astype(int)
    return int(np.count_nonzero(np.all(np.abs(image - np.array(rgb)) <= 30, axis=2)))


@pytest.mark.slow
def test_dashboard_in_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright
    base, data, cut = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{base}/?refresh=500")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        assert page.locator("#panels .main-svg").count() >= 1
        assert page.evaluate("document.getElementById('panels').layout.yaxis5.title.text") == "≥10 MeV (pfu)"
        banners = page.locator("#alerts div").all_inner_texts()
        assert any("SHOCK" in b for b in banners) and any(b.startswith("S2") for b in banners)
        first = page.inner_text("#latest")
        assert first == "latest 2026-11-21T11:59:00.000Z"
        page.screenshot(path=str(tmp_path / "dashboard.png"))
        shot = page.locator("#panels").screenshot()
        for name, rgb in PANEL_COLOURS.items():
            assert _colour_pixels(shot, rgb) > 150, f"no {name} trace on the screenshot"
        # live: the rest of the stream arrives through the ingest endpoint while the page is open
        response = page.request.post(f"{base}/api/ingest", data=data, headers={"Authorization": "Bearer t0ken",
                                                                               "Content-Type": "application/octet-stream"})
        assert response.ok
        page.wait_for_function("document.getElementById('latest').textContent.includes('2026-11-21T23:59')",
                               timeout=15_000)
        page.click("text=2 h")
        page.wait_for_function("document.getElementById('panels').layout.xaxis.range[1] - "
                               "document.getElementById('panels').layout.xaxis.range[0] <= 2 * 3600e3 + 1000")
        browser.close()
    assert all(u.startswith(base) for u in requests), "the page asked for something off this server"


@pytest.mark.slow
def test_forecast_panel_in_chromium(tmp_path):
    """The forecast panel on a replayed archive: the band, the forecast, both observed series,
    the issue-time line, a row of verification per lead day."""
    from playwright.sync_api import sync_playwright

    from conftest import serving
    from astropy.time import Time
    from l4station.ground import replay
    from l4station.heliosphere import insitu
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    with Archive(url) as archive:
        replay.replay(archive, insitu.packaged(), int(Time("2008-08-01").unix * 1e6), int(Time("2008-08-09").unix * 1e6))
    with serving(url) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{base}/?refresh=500")
        page.wait_for_selector("body[data-forecast='1']", timeout=30_000)
        names = page.evaluate("document.getElementById('forecast-plot').data.map(t => t.name)")
        assert names == ["p90", "p10–p90", "forecast at Earth", "observed at L1", "observed at L4"]
        assert page.evaluate("document.getElementById('forecast-plot').layout.shapes.length") == 1
        assert page.locator("#verification tbody tr").count() == 7
        assert page.inner_text("#run").startswith("run 20080809T000000Z-")
        shot = page.locator("#forecast-plot").screenshot()
        assert _colour_pixels(shot, (0x77, 0xAA, 0xFF)) > 150, "no forecast trace on the screenshot"
        browser.close()


@pytest.mark.slow
def test_radiation_panel_in_chromium(server, tmp_path):
    """The radiation panel: a dose-rate trace per crew scenario and a row of each, whose numbers
    are the BFO rates and 24-hour doses of the archived proton channels (radiation.dose)."""
    import httpx
    from playwright.sync_api import sync_playwright

    from l4station.radiation import dose
    base, data, cut = server
    d = httpx.get(f"{base}/api/dose?hours=24").json()
    with Archive(f"sqlite:///{tmp_path / 'a.db'}") as archive:
        newest = archive.extent("particles")[1]
        held = archive.columns("particles", newest + 1 - 24 * 3_600_000_000, newest + 1)
    flux = np.stack([held[c] for c in dose.STATION_CHANNELS], axis=-1)
    step_h = np.minimum(np.diff(held["t_us"], append=held["t_us"][-1] + 60_000_000), 60_000_000) / 3.6e9
    for row, scenario in zip(d["scenarios"], dose.SCENARIOS):
        rate = dose.dose_rate(dose.STATION_CHANNELS_MEV, flux, scenario)
        assert row["rate_mgy_eq_h"] == pytest.approx(rate[-1]) and row["dose_mgy_eq"] == pytest.approx(np.sum(rate * step_h))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{base}/?refresh=500")
        page.wait_for_selector("body[data-dose='1']", timeout=30_000)
        names = page.evaluate("document.getElementById('dose-plot').data.map(t => t.name)")
        assert names == [s.name for s in dose.SCENARIOS]
        assert page.locator("#dose tbody tr").count() == 4
        assert page.inner_text("#spectrum").startswith(d["spectrum"]["time"])
        page.wait_for_function("document.querySelectorAll('#dose-plot .scatterlayer .trace').length === 4")
        shot = page.locator("#dose-plot").screenshot()
        drawn = sum(_colour_pixels(shot, rgb) for rgb in ((0xFF, 0x66, 0x66), (0xFF, 0xBB, 0x44), (0x66, 0xCC, 0x66),
                                                             (0x66, 0xAA, 0xFF)))
        assert drawn > 150, "no dose-rate trace on the screenshot"        # the traces overlap where rates agree
        browser.close()
