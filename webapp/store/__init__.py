"""The database: one way to open it, its schema migrations, and how every file is written."""
