"""Radiation safety: solar proton events and the NOAA S-scale (:mod:`events`)."""
