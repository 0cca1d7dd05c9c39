"""l4station: mission design and space-weather operations for a Sun–Earth L4 observatory.

Importing the package loads nothing heavy and changes no setting of its host: Earth
orientation (UT1) is read from the IERS tables shipped in astropy-iers-data, without a
download, inside the one function that needs it (:mod:`l4station.comms.visibility`), and
ERFA's "dubious year" warning for mission epochs is silenced only inside the study and the
``l4station`` command (:mod:`l4station.offline`).
"""
__version__ = "0.1.0"
