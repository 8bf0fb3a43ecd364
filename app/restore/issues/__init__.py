"""Issue data restore: issues with keys kept, fields mapped, comments and worklogs by their authors."""
