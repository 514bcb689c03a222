"""Training: one network per lead set, thresholds chosen for the Challenge metric, several devices."""
