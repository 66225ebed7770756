"""Validation (形式审查): every rule on the materials, the applicant's identity and
organisation, before any person spends time on an application."""
