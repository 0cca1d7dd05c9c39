"""The largest computations a mission may ask for: each bound keeps one array within a few
hundred MB, and the mission file and every entry point refuse more with the fix named.

>>> MAX_TRADE_GRID * 8 / 1e6    # MB in one float64 array of the largest trade grid
40.0
"""

MAX_TRADE_GRID = 5_000_000        # departure dates x flight times in the transfer trade (default ~180,000)
MAX_TIMELINE_SAMPLES = 1_000_000  # geometry timeline samples (default ~1,800)
MAX_CONTACT_SAMPLES = 5_000_000   # contact-plan time steps, each for every station (default ~1.3 million)
MAX_MEMBERS = 100_000             # solar-wind ensemble members (the command's default 1,000)
MAX_SEGMENTS = 10_000_000         # LTP segments of one bundle in store and forward (a 1 GB bundle in 1 kB ones: 1e6)
