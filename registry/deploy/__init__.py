"""Deploying a trained network: export to SavedModel, ONNX, LiteRT or OpenVINO, verified.

`export` writes a model in a serving format after running it in that
format's own runtime against Keras; `fold_batchnorm` merges batch norm into
the convolutions for inference; `predict_exported` runs any exported file.
Import the submodules: this package's import pulls in nothing heavy.
"""
