"""Multi-label ECG classification on 12, 6, 4, 3 and 2 leads with a dual-branch CRNN.

The PhysioNet/CinC Challenge 2021 method of Kaparakis et al.: preprocessing, a wavelet PQRST delineator
(Martínez et al. 2004), engineered beat features and two convolutional recurrent branches.

The subpackages are the stages, in the order data flow through them; imports run down this list only:

- ``domain``: leads, lead sets, fiducial names, the scored classes and their weights (used by all);
- ``io``: records, MATLAB files, output files, reduced-lead copies, atomic writes;
- ``scoring``: the Challenge's scores and their figures (apart from the flow: it needs only the two above);
- ``signal``: a recording as stored to filtered 500 Hz millivolts in 10 s windows;
- ``delineation``: P, QRS and T waves (wavelet transform, QRS detection and boundaries, P and T waves);
- ``features``: the beat sequence and the record vector from the delineation, the global measurements and
  the published diagnostic criteria graded on them (``criteria``);
- ``pipeline``: the one path from a recording to the network's inputs, and the settings of these stages;
- ``data``: the training cache and the batches read from it;
- ``model``: the network and its losses;
- ``inference``: model folders saved and loaded, one recording predicted, a folder of recordings run;
- ``training``: the training loop, thresholds for the Challenge metric, distribution over devices (it saves
  its models through ``inference``'s model folders);
- ``app``: the command lines beyond the Challenge's scripts (the ECG viewer and its reading report, the demo);
- ``synthetic``: the ECG simulator that makes the demo's and the tests' records.
"""

__version__ = "0.2.0"
