"""Task families. Importing this package registers every task."""

from neurobench.tasks import perceptual, working_memory

__all__ = ["perceptual", "working_memory"]
