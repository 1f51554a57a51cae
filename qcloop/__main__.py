import sys

from qcloop.cli import main

sys.exit(main())
