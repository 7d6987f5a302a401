"""`python -m console` runs the same entry point as `event-console`."""

from console.cli import main

raise SystemExit(main())
