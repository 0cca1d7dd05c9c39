"""Bringing the data home: ground stations, links, relays, contacts and data volume."""
