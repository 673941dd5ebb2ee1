"""Readers: every file a user gives, checked where it enters (InputError names file,
line and field)."""
