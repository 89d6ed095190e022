"""The desktop monitor: a PyQt5 window over the engine. Qt lives here only, never in ``pipeline/``.

Contract: the engine runs unchanged on a worker QThread (``worker.RunWorker``), and the window is
one more engine listener. Results cross threads only as copies, batched into ``worker.Frame``
objects at most ~30 times a second plus a final one; nothing is dropped. The window draws from
bounded ring buffers (``ring_buffer.RingBuffer``), so memory stays flat on an endless stream.
Stopping uses the engine's stop flag; pausing and the replay speed of file runs use
``pipeline.live.pacing``, pausing a Kafka run ``live_source`` (which keeps the consumer in its group).

Modules: ``app`` (entry point, ``--screenshot``), ``main_window`` (toolbar, source choice, menus,
status bar, dialogs), ``worker`` (thread side, source state), ``live_source`` (pause for Kafka),
``plots`` (one panel per detector and stream, and its views), ``anomaly_table`` (the table model),
``ring_buffer``, ``theme`` (status colours).
"""
