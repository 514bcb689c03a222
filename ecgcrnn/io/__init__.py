"""Reading and writing: Challenge records (WFDB headers, MATLAB files), output files, reduced-lead copies,
and the atomic writes every file of the package goes through.
"""
