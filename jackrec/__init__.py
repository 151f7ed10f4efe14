"""jackrec: a multichannel JACK recorder with a C realtime core."""

__version__ = "0.1.0"
