"""The training data on disk: the cache every record is read into once, and the batches read from it."""
