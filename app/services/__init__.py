"""Use cases: async functions over the database and the Channex client. They flush, never commit."""
