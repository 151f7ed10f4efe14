"""The Textual recording console (``jackrec tui``)."""
