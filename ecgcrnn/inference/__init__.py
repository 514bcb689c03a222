"""Running a trained entry: model folders saved and loaded, one recording predicted, a folder of them run."""
