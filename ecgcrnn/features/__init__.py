"""Engineered features from a delineation: the beat-by-beat sequence and the record-level vector."""
