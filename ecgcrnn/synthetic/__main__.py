"""``python -m ecgcrnn.synthetic OUT_DIR --records N --seed S [--clean]``."""

from ecgcrnn.synthetic.generator import main

main()
