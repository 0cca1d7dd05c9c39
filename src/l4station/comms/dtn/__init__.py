"""Delay-tolerant delivery: contact plans, contact graph routing, transfer frames, CFDP and
store-and-forward over the station's links and relays."""
