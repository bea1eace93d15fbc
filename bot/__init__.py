"""Telegram layer of 托育助手: application, handlers, texts, console mode and the command line."""
