"""The command lines people use beyond the Challenge's scripts: shared CLI handling, the ECG viewer, the
demo.
"""
