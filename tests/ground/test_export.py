"""Daily files: CDF through cdflib with its ISTP checks as errors, read back by cdflib; netCDF
read back by xarray; both hold what the archive holds."""
import cdflib
import numpy as np
import pytest
import xarray as xr

from l4station.ground import export, ingest
from l4station.ground.store import Archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory, two_days):
    url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'a.db'}"
    with Archive(url) as a:
        ingest.ingest_bytes(a, two_days.data, source="test")
    a = Archive(url)
    yield a
    a.close()


@pytest.mark.slow
def test_daily_cdf_passes_istp_checks_and_reads_back(archive, tmp_path):
    paths = export.export_day(archive, "2026-11-21", tmp_path, "cdf")
    assert [p.name for p in paths] == [f"l4_{n}_l2_20261121_v01.cdf" for n in ("plasma", "mag", "particles", "housekeeping")]
    cdf = cdflib.CDF(str(paths[0]))
    assert cdf.varinq("Epoch").Data_Type_Description == "CDF_TIME_TT2000"
    assert cdf.globalattsget()["Logical_source"] == ["l4_plasma_l2"]
    epoch = cdflib.cdfepoch.to_datetime(cdf.varget("Epoch"))
    truth = archive.columns("plasma", 1_795_219_200_000_000, 1_795_305_600_000_000)
    assert len(epoch) == len(truth["t_us"]) == 1440
    assert np.array_equal(epoch.astype("datetime64[us]").astype(np.int64), truth["t_us"])
    assert np.allclose(cdf.varget("vr"), truth["vr"])
    assert cdf.varattsget("vr")["UNITS"] == "km/s" and cdf.varattsget("vr")["DEPEND_0"] == "Epoch"


@pytest.mark.slow
def test_every_daily_cdf_passes_spacepy_istp_checks(archive, tmp_path):
    """SpacePy's ISTP checker (spacepy.pycdf.istp.FileChecks.all, the SPDF ISTP guidelines) finds
    no problem in any file; cdflib's own checks missed the TT2000 FILLVAL it once found."""
    from spacepy import pycdf
    from spacepy.pycdf import istp

    for path in export.export_day(archive, "2026-11-21", tmp_path, "cdf"):
        with pycdf.CDF(str(path)) as cdf:
            assert istp.FileChecks.all(cdf) == [], path.name
            assert cdf["Epoch"].attrs.type("FILLVAL") == pycdf.const.CDF_TIME_TT2000.value


def test_daily_netcdf_reads_back(archive, tmp_path):
    path = export.export_day(archive, "2026-11-21", tmp_path, "netcdf")[1]
    ds = xr.open_dataset(path)
    truth = archive.columns("mag", 1_795_219_200_000_000, 1_795_305_600_000_000)
    assert ds.attrs["Conventions"] == "CF-1.10" and ds["bn"].attrs["units"] == "nT"
    assert np.array_equal(ds["Epoch"].values.astype("datetime64[us]").astype(np.int64), truth["t_us"])
    assert np.allclose(ds["bn"].values, truth["bn"])
    ds.close()


def test_bad_day_and_format(archive, tmp_path):
    with pytest.raises(ValueError, match="not a date"):
        export.export_day(archive, "21/11/2026", tmp_path)
    with pytest.raises(ValueError, match="cdf or netcdf"):
        export.export_day(archive, "2026-11-21", tmp_path, "hdf5")
    assert export.export_day(archive, "2020-01-01", tmp_path) == []
