"""The warehouse: its profile (kind, databases, table naming, writer pool) and the SQL helpers."""
