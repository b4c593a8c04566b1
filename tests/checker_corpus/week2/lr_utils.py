"""The course's lr_utils: loads the cat data set with h5py (often not installed)."""

import h5py
import numpy as np


def load_dataset():
    with h5py.File("datasets/train_catvnoncat.h5", "r") as train:
        train_x = np.array(train["train_set_x"][:])
        train_y = np.array(train["train_set_y"][:])
    with h5py.File("datasets/test_catvnoncat.h5", "r") as test:
        test_x = np.array(test["test_set_x"][:])
        test_y = np.array(test["test_set_y"][:])
        classes = np.array(test["list_classes"][:])
    return train_x, train_y.reshape(1, -1), test_x, test_y.reshape(1, -1), classes
