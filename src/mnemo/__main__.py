"""`python -m mnemo` and the `mnemo` command (`[project.scripts]` names `main`).

Importing the command line (typer, rich, pydantic...) takes a moment; a Ctrl-C during
it is the same one line and exit code 130 as a Ctrl-C later, not a traceback.
"""

import sys


def main() -> None:
    try:
        from mnemo.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
