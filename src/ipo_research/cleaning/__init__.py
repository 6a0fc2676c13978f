"""ipo_research.cleaning."""
