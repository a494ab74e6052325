"""Pretrained weights and what comes with them: weight files, ImageNet labels, input conventions.

| module | holds |
| --- | --- |
| `weights` | `load_weights` and `load_model`: resblocks' own files, checked all or nothing |
| `keras_applications` | keras.applications' ImageNet `.h5` files, paired layer by layer |
| `torch_files` | reading torchvision `.pth` and timm `.safetensors` checkpoints as numpy arrays |
| `torch_layout` | the tables from our layers to torchvision's and timm's state-dict keys |
| `torch_weights` | loading them all or nothing, `adapt_input_conv`, `torch_state_dict` |
| `imagenet` | the 1000 ImageNet labels (shipped in `data/`) and `decode_predictions` |
| `preprocessing` | `input_convention` and `preprocess_input`: pixels as the weights expect them |
"""

from registry.pretrained.imagenet import decode_predictions
from registry.pretrained.preprocessing import input_convention, preprocess_input
from registry.pretrained.torch_weights import torch_state_dict
from registry.pretrained.weights import load_model, load_weights

__all__ = [
    "decode_predictions",
    "input_convention",
    "load_model",
    "load_weights",
    "preprocess_input",
    "torch_state_dict",
]
