"""Multi-label ECG classification on 12, 6, 4, 3 and 2 leads with a dual-branch CRNN.

The PhysioNet/CinC Challenge 2021 method of Kaparakis et al.: preprocessing, a wavelet PQRST delineator
(Martínez et al. 2004), engineered beat features and two convolutional recurrent branches.
"""

__version__ = "0.1.0"
