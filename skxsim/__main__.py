"""``python -m skxsim``: the command line."""

import sys

from skxsim._cli import main

if __name__ == "__main__":
    sys.exit(main())
