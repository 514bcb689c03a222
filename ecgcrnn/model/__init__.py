"""The dual-branch convolutional recurrent network and its losses (Keras 3)."""
