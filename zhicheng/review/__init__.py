"""Review (审核): the one way an application enters and moves along its chain; the
offices' decision files, overdue stages, and the stages the machine decides."""
