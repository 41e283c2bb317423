"""Foundations that know nothing of the Moon: user errors, units, registries, safe writing,
the results folder's lock, work in a second process, column types and the figures' style."""
