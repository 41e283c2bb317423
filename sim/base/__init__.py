"""Layer 1, base: foundations that know nothing of the Moon. User errors, units, registries,
writing files atomically, the results folder's lock, work in a second process, the results
tables' column types and the figures' style. Imports nothing else of lunarsim."""
