"""`zhicheng web`: the verification and query service (docs/verification.md).

Public verification at the QR code's address and its JSON API (public.py), the hall's
signed downloads (hall.py), staff search behind sign-in (staff.py); one Starlette app
(app.py) over the same services the flows and the CLI use.
"""
