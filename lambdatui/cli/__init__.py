"""The `lambdatui` command: the dashboard with no subcommand, headless subcommands otherwise."""
