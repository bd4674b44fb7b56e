"""`python -m playerseg.synthetic OUT ...`: write procedural pitch clips (see playerseg.synthetic.generator)."""

import sys

from playerseg.synthetic.generator import main

sys.exit(main())
