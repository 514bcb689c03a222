"""The wavelet delineator of P, QRS and T waves (Martínez et al. 2004): its transform, QRS detection and
boundaries, P and T waves, and its settings.
"""
