"""Telegram handlers, one module per flow. Handlers parse the update, call `retrieval`/`db`, render."""
