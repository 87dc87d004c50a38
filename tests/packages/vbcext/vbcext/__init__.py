from vbcext._fast import add  # noqa: F401  (compiled from _fast.c)
