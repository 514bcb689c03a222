"""Development-only code that the benchmarks, the tests and the figures share; never installed, never
imported by the package.

- :mod:`devtools.environment`: where the data are (../shared, or ``ECGCRNN_SHARED``), how many threads a
  bench computes on, and the machine line every bench prints;
- :mod:`devtools.ludb`: LUDB's records and cardiologists' marks, and how detections are matched to them;
- :mod:`devtools.wavelet`: the hand-written à trous filter bank the delineator's transform replaced, the
  reference the tests and ``bench/speed/wavelet.py`` compare it with;
- :mod:`devtools.challenge`: the size and class counts of the Challenge's training set, which benches
  simulate with;
- :mod:`devtools.intervals`: the global intervals that two accuracy benches compare, and their error table;
- :mod:`devtools.references` and :mod:`devtools.classification_tables`: the references the classification
  bench sets beside the CRNN (always normal, the criteria, a logistic regression), what it measures on
  each held-out source (storms included) and the tables it prints;
- :mod:`devtools.masked`: the lead-masked network, one twelve-lead network serving every lead set, the
  alternative that ``bench/quality/classification.py --masked`` measures;
- :mod:`devtools.figures`: the README's figures, ``python -m devtools.figures`` (``make figures``);
- ``devtools/input_digests.py``: a script that digests every array the pipeline makes from a record, to show
  that a refactoring changed none of them.

Why a top-level package beside ``ecgcrnn/`` and not inside it: this code reads ../shared (LUDB's annotation
files through ``wfdb``) and holds experiments, and the entry that the Challenge's harness installs and runs
must not carry either; ``pyproject.toml`` installs ``ecgcrnn`` alone, so ``import devtools`` works only
from a checkout. Why not ``bench/common/``: the tests and the figures import it as much as the benchmarks
do, and ``bench/`` holds scripts only, each run on its own and none importing another.

The tests find it through pytest's ``pythonpath`` (the repository's root); a bench script, run as
``python bench/<kind>/<name>.py``, puts the repository's root first on ``sys.path`` before importing it.
"""
