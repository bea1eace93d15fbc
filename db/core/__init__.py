"""Shared by every domain: the engine and sessions, migrations, local time, conversation state, and the claims that make the bot's own messages go out once."""
