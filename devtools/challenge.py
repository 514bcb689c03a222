"""Facts of the 2021 Challenge's training set that benches simulate with: its size and its class counts."""

TRAINING_RECORDINGS = 88253
"""Recordings in the 2021 Challenge's public training set."""

CLASS_COUNTS = (5255, 8374, 522, 295, 1494, 4830, 3534, 1857, 7631, 2186, 392, 1599, 1907)
CLASS_COUNTS += (1768, 28971, 3265, 1481, 638, 1938, 2076, 1280, 3790, 18918, 9657, 11716, 3989)
"""Recordings per scored class in that set (dx_mapping_scored.csv's totals, equivalent pairs summed), in the
order of weights.csv."""
