"""The operator console: server-rendered HTML pages at /console (issue 13)."""
