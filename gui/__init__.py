"""The desktop monitor: a PyQt5 window over the engine. Qt lives here only, never in ``pipeline/``.

Contract: the engine runs unchanged on a worker QThread, and the window is one more engine
listener. Results cross threads only as copies, batched into ``pipeline.live.frames.Frame``
objects at most ~30 times a second plus a final one; nothing is dropped. The window draws from
bounded ring buffers (``pipeline.ring_buffer``), so memory stays flat on an endless stream.
Stopping uses the engine's stop flag; pausing and the replay speed of file runs use
``pipeline.live.pacing``, pausing a Kafka run ``pipeline.live.live_source`` (which keeps the
consumer in its group). Everything of a watched run that needs no Qt (the run itself, its
``RunState``, the totals, the source choice) is in ``pipeline.live`` and tested there.

Modules, one owner per concern, wired together by ``main_window``:

- ``app``: entry point (``main.py --gui``, ``--screenshot``).
- ``main_window``: the shell that builds and wires the parts below, loads configs, shows messages.
- ``menus``: actions, menus, the toolbar (source and replay speed), recent configs.
- ``run_controller``: the run state machine (start, pause, resume, stop, speed) on a worker thread.
- ``worker``: the thread side, ``pipeline.live.watched_run.WatchedRun`` behind Qt signals.
- ``panel_area``: the panels per stream, the render tick, follow and centre-on.
- ``plots``: one panel per detector and stream, and its views.
- ``anomaly_table``: the table model and its pane.
- ``status_bar``: counters, rates, progress and the source state.
- ``export``: the table as CSV, the plots as PNG.
- ``theme``: colours.
"""
