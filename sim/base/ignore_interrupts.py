"""Imported first by the batch's fork server, before the model's heavy imports: Ctrl-C is for
the parent process, which stops a batch cleanly; the server and the workers it forks ignore
it, instead of each printing a traceback from wherever it was."""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
