"""Compiled (numba) kernels of detectors whose inner loops are sequential: each step depends on the
one before, so numpy cannot vectorise them and plain Python is too slow for streams.

The detector registry imports only this package's ``__init__``; a detector imports its kernel
module when it first needs it, so runs that use none of these detectors never load numba. numba
compiles each kernel on first use (a second or two) and caches the machine code in
``__pycache__``, so later runs start at once.
"""
