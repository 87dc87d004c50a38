import sys

sys.exit("vbbroken: this package fails to build on purpose (venvbuild's failure tests)")
