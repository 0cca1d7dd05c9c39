"""Station catalogue held to the DSN handbook's and KARI's published coordinates."""
import astropy.units as u
import numpy as np
import pytest

from l4station.comms.stations import catalogue

# DSN Telecommunications Link Design Handbook 810-005, module 301 Rev. M (2020-09-04),
# table 2: ITRF cartesian coordinates (m), quoted to +-3 cm.
DSN_ITRF_M = {
    "DSS-14": (-2353621.420, -4641341.472, +3677052.318),
    "DSS-24": (-2354906.711, -4646840.095, +3669242.325),
    "DSS-25": (-2355022.014, -4646953.204, +3669040.567),
    "DSS-26": (-2354890.797, -4647166.328, +3668871.755),
    "DSS-34": (-4461147.093, +2682439.239, -3674393.133),
    "DSS-35": (-4461273.090, +2682568.925, -3674152.093),
    "DSS-36": (-4461168.415, +2682814.657, -3674083.901),
    "DSS-43": (-4460894.917, +2682361.507, -3674748.152),
    "DSS-54": (+4849434.488, -360723.8999, +4114618.835),
    "DSS-55": (+4849525.256, -360606.0932, +4114495.084),
    "DSS-56": (+4849421.679, -360549.6590, +4114646.987),
    "DSS-63": (+4849092.518, -360180.3480, +4115109.251),
    "DSS-65": (+4849339.634, -360427.6637, +4114750.733),
}


def _xyz(station):
    loc = station.location
    return np.array([loc.x.to_value(u.m), loc.y.to_value(u.m), loc.z.to_value(u.m)])


@pytest.mark.parametrize("name", sorted(DSN_ITRF_M))
def test_dsn_geodetic_positions_reproduce_the_handbook_cartesian_table(name):
    # The catalogue holds table 5's geodetic coordinates; WGS 84 turns them into table 2's.
    assert np.linalg.norm(_xyz(catalogue()[name]) - DSN_ITRF_M[name]) < 0.03  # m


def test_kdsa_position_matches_the_kari_frame_kernel():
    # NAIF frame kernel kdsa01.tf (KARI, 2021-03-08), ITRF93 cartesian, km:
    # X = -0.3104875219984E+04, Y = 0.4028589155626E+04, Z = 0.3835823298281E+04.
    # The kernel's spheroid (6378.1366 / 6356.7519 km) differs from WGS 84 by 0.4 m here.
    expected = np.array([-3104.875219984, 4028.589155626, 3835.823298281]) * 1e3
    assert np.linalg.norm(_xyz(catalogue()["KDSA"]) - expected) < 1.0  # m


def test_catalogue_has_every_complex_and_kdsa():
    stations = catalogue()
    complexes = {s.complex for s in stations.values()}
    assert {"Goldstone", "Canberra", "Madrid", "Yeoju"} <= complexes
    assert {s.diameter_m for s in stations.values()} >= {34, 35, 70}
