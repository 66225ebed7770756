"""Intake (收件): the hall's submissions taken in exactly once, their files downloaded
by worker processes, the 申报表 as its applicant submitted it, and the hall's
cancellations (取消申请)."""
