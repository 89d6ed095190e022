"""Compiled (numba) kernels for the inner loops that numpy cannot vectorise, because each step
depends on the one before (RRCF's tree walks, the time-average buckets of feature construction).

Nothing imports these modules until a detector or feature that needs one first runs, so runs that
use none of them never load numba. numba compiles a kernel on first use (a second or two) and
caches the machine code in ``__pycache__``, so later runs start at once.
"""
