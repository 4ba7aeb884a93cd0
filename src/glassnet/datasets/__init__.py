"""Data sets and the helpers that prepare them.

Everything here returns NumPy arrays in the library's layout: ``X`` of shape
(n_samples, n_features) and targets of shape (n_samples, n_outputs) or
(n_samples,) for integer labels.  Nothing is ever downloaded.

``mnist`` and ``fashion_mnist`` are Keras's: ``mnist.load_data()`` returns
the stored uint8 arrays (see :mod:`glassnet.datasets.images`).
"""

from . import catalog
from .catalog import Dataset
from .stream import CSVDataset
from . import images
from .files import load_csv, save_csv, load_idx, load_mnist, FASHION_MNIST_DIR
from .images import fashion_mnist, mnist
from .preprocessing import (MinMaxScaler, StandardScaler, encode_labels, one_hot,
                            train_test_split, validation_split)
from .toy import (IMAGE2X2_CLASSES, blobs, circles, digits, function_samples, image2x2,
                  logic_gate, spirals)

__all__ = ["catalog", "Dataset", "CSVDataset", "logic_gate", "circles", "blobs", "spirals", "image2x2", "IMAGE2X2_CLASSES", "function_samples", "digits",
           "load_idx", "load_mnist", "mnist", "fashion_mnist", "images", "load_csv", "save_csv", "FASHION_MNIST_DIR",
           "train_test_split", "validation_split", "encode_labels", "one_hot", "MinMaxScaler", "StandardScaler"]
