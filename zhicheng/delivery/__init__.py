"""Delivery: the outbox pushed to the province (exactly once in effect) and to the hall,
and the registry reconciled with the province's."""
