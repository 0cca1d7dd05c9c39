"""Radiation safety: solar proton events and the NOAA S-scale (:mod:`events`), event spectra
(:mod:`spectra`), protons through shielding and tissue (:mod:`transport`), the dose crews
receive behind it (:mod:`dose`), and SEP peak forecasts with several vantage points (:mod:`sep`)."""
