"""Compiled (numba) kernels for the inner loops that numpy cannot vectorise, because each step
depends on the one before: RRCF's tree walks (``rrcf.py``) and the order statistics of sliding
windows behind Hampel, Percentile and EMA_Percentile (``rolling_order.py``).

Nothing imports these modules until a detector that needs one first runs, so runs that
use none of them never load numba. numba compiles a kernel on first use (up to several seconds) and
caches the machine code in ``__pycache__``, so later runs start at once.
"""
