"""Expert votes (专家评审): rosters, sessions, ballots, the tally and its outcome, and the
session report."""
