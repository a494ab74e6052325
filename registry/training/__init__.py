"""Training support: the image-folder input pipeline, augmentation and the digits demo data.

Kept import-free on purpose: `import registry.training` must not pull in
TensorFlow; import the submodule you need (`registry.training.data`, ...).
"""
