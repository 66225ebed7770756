"""Data quality: runs of the great-expectations suites of expectations/ over the database."""
