"""Training and using networks on image folders, named data sets and arrays: train, evaluate, ...

Also the run folder (atomic per-epoch commits, resume), speed settings and
the digits demo data. Kept import-free on purpose: `import
registry.training` must not pull in TensorFlow; import the submodule you
need (`registry.training.run`, `registry.training.data`, ...).
"""
