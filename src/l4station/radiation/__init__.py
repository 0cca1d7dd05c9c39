"""Radiation safety: solar proton events and the NOAA S-scale (:mod:`events`), event spectra
(:mod:`spectra`), protons through shielding and tissue (:mod:`transport`), and the dose crews
receive behind it (:mod:`dose`)."""
