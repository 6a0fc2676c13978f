"""ipo_research.instruments."""
