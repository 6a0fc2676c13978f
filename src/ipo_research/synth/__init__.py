"""ipo_research.synth."""
