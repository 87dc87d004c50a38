from vbhelped._generated import TEXT  # noqa: F401
