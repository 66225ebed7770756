"""Publicity (公示): windows opened and closed, their published lists, objections (异议)."""
