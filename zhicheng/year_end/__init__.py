"""The year-end run of a batch year: its steps, and which of them are finished."""
