"""A run watched live, without Qt: pacing and pausing sources, frames of copied results for a
viewer, and the ring buffers a viewer draws from.

``pacing.PacedSource`` replays a file at a speed and pauses it; ``live_source.LiveSource`` pauses a
Kafka stream while keeping its consumer in the group; ``ticking.TickingSource`` calls back after
every poll; ``frames.FrameCollector`` turns result batches into rate-bounded ``Frame`` copies;
``ring_buffer.RingBuffer`` keeps the newest rows of a stream in bounded memory. The window
(``gui/``) is one user of these; tests drive them directly.
"""
