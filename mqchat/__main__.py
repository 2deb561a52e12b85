"""``python -m mqchat``."""

import sys

from mqchat.cli.main import main

sys.exit(main())
