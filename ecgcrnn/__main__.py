"""``python -m ecgcrnn``: the ``ecgcrnn`` command (:mod:`ecgcrnn.app.main`)."""

import sys

from ecgcrnn.app.main import main

sys.exit(main())
