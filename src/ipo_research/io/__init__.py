"""ipo_research.io."""
