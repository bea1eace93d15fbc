"""Childcare institutions, nearby search, prices, temporary-care sessions, bookings and the waitlist."""
