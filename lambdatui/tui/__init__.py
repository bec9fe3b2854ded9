"""The Textual dashboard: function list, configuration editor, test-event console, live log tail.

Talks only to the `Backend` interface. Blocking backend calls run in thread workers and report
back with messages; nothing here imports the executor.
"""
