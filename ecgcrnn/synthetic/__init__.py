"""Synthetic Challenge records with known diagnoses and true fiducial points: ``python -m
ecgcrnn.synthetic``.
"""
