"""Channex client: the only code that knows Channex's URLs, headers, payloads and limits."""
