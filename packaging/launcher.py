"""The frozen app's entry script: the same `console.cli:main` as the `event-console` command.

PyInstaller needs a script file; this one lives outside the `console` package so that the
package's own folder is not put on the frozen app's import path.
"""

from console.cli import main

raise SystemExit(main())
