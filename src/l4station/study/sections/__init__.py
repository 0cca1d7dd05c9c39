"""Report sections, one module each: ``section(context) -> Section``."""
