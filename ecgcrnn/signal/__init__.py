"""The signal stage: a recording as stored to filtered 500 Hz millivolts in 10 s windows."""
