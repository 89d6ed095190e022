"""A run watched live, without Qt: everything a viewer needs except the drawing.

- ``watched_run.WatchedRun``: one run on the caller's thread, with thread-safe stop, pause,
  resume and speed; picks the source wrapper below, reports frames and source states
  (``run_state.RunState``), and watches a Kafka source's connection on a thread of its own.
- ``pacing.PacedSource`` replays a file at a speed and pauses it; ``live_source.LiveSource``
  pauses a Kafka stream while keeping its consumer in the group; ``ticking.TickingSource`` calls
  back after every poll.
- ``frames.FrameCollector`` turns result batches into rate-bounded ``Frame`` copies, one stream
  (detector, topic, key) per plot, which a viewer keeps in ``pipeline.ring_buffer.RingBuffer``s
  (bounded memory; the same ring holds a model detector's retrain buffer).
- ``totals`` (status counts of a run), ``rate_meter`` (events per second), ``source_choice``
  (which sources a config offers, and how to say so).

The window (``gui/``) is one user of these; tests drive them directly, without Qt.
"""
