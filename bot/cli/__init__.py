"""The `minga` command line: main.py builds the parser and runs a command; one module per
subcommand group (run.py: run, chat, db; events, broadcast, ideas, export: export and
publish, calls, residents); output.py prints for people or as JSON."""
