"""Dataset loaders returning uint8 arrays, and on-device augmentation."""
