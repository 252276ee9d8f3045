"""``python -m gradebook_tools``: the same as the ``gradebook-tools`` command."""

import sys

from gradebook_tools.cli import main

sys.exit(main())
