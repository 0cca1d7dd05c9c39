"""Event spectra: King's August 1972 fit reproduced, the Band form continuous and smooth at its
break (Tylka & Dietrich 2009 built it so), integral fluences exact for the analytic forms, fits
through measured channels that return the channels, and bad spectrum files refused in one line."""
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from l4station.errors import InputError
from l4station.radiation import spectra


@pytest.mark.parametrize("above", [10.0, 30.0, 100.0, 57.3])
def test_king_1972_integral_fluence_is_kings_formula(above):
    # King (1974): Phi(>E) = 7.9e9 exp((30 - E) / 26.5) cm^-2; the grid's power-law pieces hold an
    # exponential to 0.1 %
    assert spectra.event("king1972").integral(above) == pytest.approx(7.9e9 * np.exp((30 - above) / 26.5), rel=1e-3)


@pytest.mark.parametrize("name", ["sapphire-1in10", "sapphire-1in100", "sapphire-1in1000"])
def test_band_form_is_continuous_and_smooth_at_its_break(name):
    c, ga, gb, r0 = {"sapphire-1in10": (1.33e10, 0.85, 5.7, 0.0722), "sapphire-1in100": (8.73e10, 0.48, 5.7, 0.0671),
                     "sapphire-1in1000": (2.14e11, 0.315, 5.7, 0.0650)}[name]
    rb = (gb - ga) * r0
    low = lambda r: c * r ** -ga * np.exp(-r / r0)
    high = lambda r: c * r ** -gb * rb ** (gb - ga) * np.exp(ga - gb)
    assert high(rb) == pytest.approx(low(rb), rel=1e-12)
    h = 1e-6 * rb        # the log-slopes agree too: -ga - Rb/R0 = -gb
    assert np.log(low(rb) / low(rb - h)) / np.log(rb / (rb - h)) == pytest.approx(-gb, rel=1e-4)
    # the spectrum on the grid is that function, times 4 pi, per MeV
    s = spectra.event(name)
    r = spectra.rigidity_gv(s.energy_mev)
    dr_de = np.gradient(r, s.energy_mev)
    expected = 4 * np.pi * np.where(r <= rb, low(r), high(r)) * dr_de
    assert np.allclose(s.fluence[1:-1], expected[1:-1], rtol=2e-3)


def test_rarer_design_events_carry_more_fluence_above_30_mev():
    above = [float(spectra.event(n).integral(30.0)) for n in ("sapphire-1in10", "sapphire-1in100", "sapphire-1in1000")]
    assert above[0] < above[1] < above[2]


@settings(max_examples=80, deadline=None)
@given(phi=st.floats(1e5, 1e12), index=st.floats(0.5, 5.0), above=st.floats(2.0, 500.0))
def test_power_law_integral_is_exact(phi, index, above):
    assume(phi * above ** index < 0.99 * spectra.MAX_FLUENCE_CM2)         # Phi(>1 MeV) within the bound
    assume((1e4 / above) ** -index <= 0.009)                             # 99 % of it below 10 GeV
    s = spectra.power_law("p", phi, above, index)
    for e in (above, 2 * above, 1.37 * above):
        if e < 1e4 / 10:
            exact = phi * (e / above) ** -index - phi * (1e4 / above) ** -index     # the grid ends at 10 GeV
            assert s.integral(e) == pytest.approx(exact, rel=1e-5)


def test_a_form_with_its_fluence_beyond_the_tables_is_refused_not_cut():
    # an integral index of 0.01 above 10 MeV puts 93 % of the protons above 10 GeV
    for make in (lambda: spectra.power_law("p", 1e9, 10.0, 0.01), lambda: spectra.exponential("e", 1e9, 10.0, 1e9)):
        with pytest.raises(InputError, match="of the fluence above 10 MeV lies beyond 10000 MeV"):
            make()


@pytest.mark.parametrize("make, message", [
    (lambda: spectra.band("b", "x", 0.85, 5.7, 0.0722), "b: c_per_sr must be one real number, got 'x'"),
    (lambda: spectra.exponential("e", [1e9, 2e9], 10.0, 26.5), "e: phi_above_cm2 must be one real number"),
    (lambda: spectra.power_law("p", 1e9, 10.0, True), "p: index must be one real number, got True"),
])
def test_analytic_forms_refuse_what_is_not_one_number(make, message):
    with pytest.raises(InputError, match=re.escape(message)):
        make()


def test_king_s_formula_tabulated_to_2_gev_is_read():
    # King (1974): Phi(>E) = 7.9e9 exp((30 - E)/26.5); its local log-log slope E/26.5 passes 50
    # above 1.3 GeV, yet it falls an e-fold per 26.5 MeV: a real spectrum, read as given.
    e = np.array([10.0, 30.0, 100.0, 300.0, 1000.0, 1500.0, 2000.0])
    s = spectra.from_integral("king", e, 7.9e9 * np.exp((30 - e) / 26.5))
    assert s.integral(e[:4]) == pytest.approx(7.9e9 * np.exp((30 - e[:4]) / 26.5), rel=1e-9)


def test_a_spectrum_from_plain_lists_is_its_own_read_only_copy():
    energy, fluence = [1.0, 10.0, 100.0], [1e6, 1e5, 1e3]
    s = spectra.Spectrum("d", energy, fluence)
    fluence[0] = -1.0
    assert s.integral([10.0, 30.0]) == pytest.approx([9.0e5, 2.3333e5], rel=1e-4)   # log-log trapezoid, by hand
    with pytest.raises(ValueError):
        s.fluence[0] = -1.0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0.3, 3.0), min_size=5, max_size=5), st.floats(1e6, 1e11))
def test_a_fit_through_the_stations_channels_returns_them(drops, top):
    # Integral channels >= 1, 5, 10, 30, 50, 100 MeV, falling by the drawn decades.
    phi = top / 10 ** np.concatenate([[0.0], np.cumsum(drops)])
    s = spectra.from_integral("fit", spectra.CHANNELS_MEV, phi)
    assert np.allclose(s.integral(np.array(spectra.CHANNELS_MEV)), phi, rtol=1e-6)
    assert s.integral(0.5 * spectra.CHANNELS_MEV[0]) == pytest.approx(phi[0])      # nothing below the first
    assert np.all(s.fluence >= 0)


@pytest.mark.parametrize("text, message", [
    ("10 100\n30 200\n", "integral fluence above 30 MeV (200) exceeds the one above 10 MeV (100)"),
    ("10 100\n5 50\n", "energies must increase"),
    ("10 -1\n30 0.5\n", "integral fluence -1 cm^-2 must be positive and finite"),
    ("10 100\n", "at least two energy/fluence pairs"),
    ("0.0001 100\n30 20\n", "energy 0.0001 MeV is outside 1-10000 MeV"),
    ("9999 10\n10000 1\n", "energy 10000 MeV is outside 1-10000 MeV (the last must be below 10000 MeV"),
    ("10 1e10\n20 1e-300\n", "steeper than E^-50"),
    ("10 1e9\n10.000000001 1e8\n", "steeper than E^-50"),
    ("10 100 7\n", "line 1: expected 'energy_MeV fluence_above_cm2'"),
    ("ten 100\n", "line 1: expected 'energy_MeV fluence_above_cm2'"),
    ("# nothing\n", "no energy/fluence rows"),
    ("10 nan\n30 5\n", "integral fluence nan cm^-2 must be positive and finite"),
    ("10 1e9\n30 inf\n", "integral fluence inf cm^-2 must be positive and finite"),
    ("10 1.7e308\n30 1e308\n", "integral fluence 1.7e+308 cm^-2 is more than 1e+15 (a Carrington-class event"),
    ("10 1e9\n10000.0000001 1\n", "energy 10000.0000001 MeV is outside 1-10000 MeV"),
    ("10 1_0\n30 5\n", "line 1: expected 'energy_MeV fluence_above_cm2', got '10 1_0'"),
    ("\u0661\u0660 100\n30 5\n", "line 1: expected 'energy_MeV fluence_above_cm2'"),       # Arabic-Indic 10
    ("\uff11\uff10 100\n30 5\n", "line 1: expected 'energy_MeV fluence_above_cm2'"),      # full-width 10
])
def test_bad_spectrum_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "event.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)):
        spectra.event(str(path))


@pytest.mark.parametrize("make, message", [
    (lambda: spectra.power_law("p", 1e9, 1000.0, 5.0), "p: the integral fluence above 1 MeV, 1e+24 cm^-2, is more"),
    (lambda: spectra.exponential("x", 1e12, 30.0, 0.5), "x: the integral fluence above 1 MeV, 1.55e+37 cm^-2, is more"),
    (lambda: spectra.band("b", 1e300, 0.5, 5.7, 0.07), "b: the integral fluence above 1 MeV, 1.57e+300 cm^-2, is more"),
    (lambda: spectra.Spectrum("s", np.array([1.0, 2.0]), np.array([1e15, 1e15 + 1e4])),
     "s: the integral fluence above 1 MeV, 1.0000000000055731e+15 cm^-2, is more than 1e+15 (a Carrington-class"),
    (lambda: spectra.exponential("x", 1e300, 30.0, 1e-3), "x: differential fluences must be finite and zero or more, "
                                                          "got inf cm^-2 MeV^-1 at 1 MeV"),
    (lambda: spectra.Spectrum("s", np.array([1.0, 2.0]), np.array([1.0, np.nan])),
     "s: differential fluences must be finite and zero or more, got nan cm^-2 MeV^-1 at 2 MeV"),
])
def test_a_spectrum_beyond_any_known_event_is_refused_without_a_warning(make, message):
    # 1e15 protons cm^-2: 1e5 times a Carrington-class event's ~1e10 above 30 MeV (Cliver &
    # Dietrich 2013)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match=re.escape(message)):
            make()


def test_a_file_that_is_not_a_regular_file_or_too_big_is_refused_before_reading(tmp_path):
    import os
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)                                     # opening it would wait for a writer
    with pytest.raises(InputError, match="the spectrum file .*fifo: not a regular file"):
        spectra.event(str(fifo))
    with pytest.raises(InputError, match="the spectrum file /dev/zero: not a regular file"):
        spectra.event("/dev/zero")
    with pytest.raises(InputError, match="the spectrum file .*: is a directory"):
        spectra.event(str(tmp_path))
    big = tmp_path / "big.txt"
    with open(big, "wb") as file:
        file.truncate(spectra.MAX_FILE_BYTES + 1)       # sparse: no 10 MB written
    with pytest.raises(InputError, match="the spectrum file .*big.txt: larger than 10,000,000 bytes"):
        spectra.event(str(big))
    fine = tmp_path / "fine.txt"
    fine.write_text("# pad\n" * 100 + "10 1e9\n30 1e8\n")
    assert spectra.event(str(fine)).integral(30.0) == pytest.approx(1e8)


def test_a_spectrum_file_with_comments_and_commas(tmp_path):
    path = tmp_path / "event.csv"
    path.write_text("# energy_MeV, fluence_above_cm2\n10, 1.68e10\n30, 7.9e9  # King at 30\n100, 5.63e8\n")
    assert spectra.event(str(path)).integral(30.0) == pytest.approx(7.9e9, rel=1e-5)


def test_an_unknown_event_names_the_known_ones():
    with pytest.raises(InputError, match=r"unknown event 'carrington' \(and no file of that name\); give one of "
                                         "king1972, sapphire-1in10"):
        spectra.event("carrington")


def test_event_names_are_read_in_any_case():
    assert spectra.event("KING1972").integral(30.0) == spectra.event("king1972").integral(30.0)
    assert spectra.event(" Sapphire-1in100 ").name == spectra.event("sapphire-1in100").name


@pytest.mark.parametrize("rows", [
    [(10, 1e9), (30, 1e8), (100, 1e7), (101, 1e7)],          # a flat last pair: 1e7 protons still above 101 MeV
    [(10, 1e9), (30, 9e8), (100, 5e8)],                      # hard: most of it above the last point
    [(10, 1.0000001e9), (30, 1e9)],
])
def test_a_file_keeps_every_fluence_it_gives_and_adds_none_below_it(tmp_path, rows):
    path = tmp_path / "event.txt"
    path.write_text("".join(f"{e} {f}\n" for e, f in rows))
    s = spectra.event(str(path))
    for energy, fluence in rows:
        assert s.integral(float(energy)) == pytest.approx(fluence, rel=1e-6)
    assert s.integral(1.0) == pytest.approx(rows[0][1], rel=1e-6)


def test_a_file_in_another_encoding_is_one_line_and_a_bom_is_fine(tmp_path):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(b"10 1e9\n\xe9 1e8\n")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        spectra.event(str(latin))
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf10 1e9\r\n30 1e8\r\n")
    assert spectra.event(str(bom)).integral(30.0) == pytest.approx(1e8)


@pytest.mark.parametrize("make, message", [
    (lambda: spectra.power_law("x", 1e9, 10.0, -1.0), "a power law needs a positive fluence and index"),
    (lambda: spectra.power_law("x", 1e9, 0.0, 2.0), "a power law needs"),
    (lambda: spectra.band("x", 1e10, 5.7, 0.85, 0.07), "gamma_b > gamma_a"),
    (lambda: spectra.exponential("x", 1e9, 30.0, -26.5), "positive fluence and e-folding energy"),
    (lambda: spectra.Spectrum("x", np.array([10.0, 5.0]), np.array([1.0, 1.0])), "energies must be positive, finite and increasing"),
    (lambda: spectra.event(""), "no event given"),
])
def test_spectra_built_in_python_are_checked_too(make, message):
    with pytest.raises(InputError, match=message):
        make()
