"""ipo_research.present."""
