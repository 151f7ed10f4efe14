"""The realtime boundary: the only package that touches the C core.

Everything under ``cext/`` reaches Python through the cffi module
``jackrec._core``, and only the modules here import it:

`capture`
    the recorder's process callback, its frame ring and gap queue, its
    statistics and meters (`Capture`);
`ring`
    the consumer's zero-copy view of a ring (`FrameRing`);
`signal`
    the test-signal generator's process callback (`SignalGenerator`);
`filewrite`
    the disk writer's frames into a take's files (channels, peaks, sample
    conversion, libsndfile), in one C call per hand-over;
`memory`
    whether memory locking works here;
`latency`
    a port's capture latency.

Whatever runs in JACK's realtime thread is C: ``cext/capture.c`` installs
its process callback itself, on the client JACK-Client opened (JACK-Client's
own callback setter is never called); the rest of jackrec sees only these
Python objects.
"""
