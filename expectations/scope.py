"""Which applications the suites look at: those accepted into review (status past
validation), of one batch year when asked. Received, invalid, returned and withdrawn
applications carry their faults as findings; a suite reporting them again would fail
every year on data the validation step already handles."""
from __future__ import annotations

from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.expectations.spec import Params
from zhicheng.expectations.sql import in_list, lit

ACCEPTED = (ApplicationStatus.VALIDATED, ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED,
            ApplicationStatus.ISSUED, ApplicationStatus.REGISTERED, ApplicationStatus.REJECTED)


def accepted(alias: str, p: Params) -> str:
    """A WHERE condition on the applications row `alias`."""
    cond = f"{alias}.status IN {in_list(ACCEPTED)}"
    if p.batch_year is not None:
        cond += f" AND {alias}.batch_year = {lit(int(p.batch_year))}"
    return cond


def of_year(alias: str, p: Params) -> str:
    """A WHERE condition on the applications row `alias`: the batch year, if any."""
    return "1 = 1" if p.batch_year is None else f"{alias}.batch_year = {lit(int(p.batch_year))}"
