"""`python -m dystonia`: the core as a command-line tool."""

from dystonia.cli import main

raise SystemExit(main())
