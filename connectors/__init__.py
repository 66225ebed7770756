"""Clients of the hall, 学信 and the province, speaking external-systems.md (docs/connectors.md)."""
