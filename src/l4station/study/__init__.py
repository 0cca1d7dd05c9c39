"""One reproducible study of the mission, read as a report (HTML + JSON)."""
