"""Checks of the demo against real observability backends (``make backends``): not part of the distribution."""
