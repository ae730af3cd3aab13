"""Hand labels: which count, how they are checked, changed, undone, queued, kept in files, and linked."""
