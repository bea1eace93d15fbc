"""Database models, engine and the domain operations on them. Nothing here imports `bot`."""
