"""ipo_research.reports."""
