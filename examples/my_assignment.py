"""A learner's week-4 assignment, as the course writes it: the file ``check --impl`` reads.

    python -m tinygrad_dl check --impl examples/my_assignment.py

The checker runs this file in a separate process, finds the course's graded functions by their
names (here ``L_model_forward`` and ``L_model_backward``) and checks each against the course's
formulas: ``AL`` and every cache of the forward pass, then every ``dW^[l]``, ``db^[l]`` and
``dA^[l-1]`` of the backward pass, on the course's test inputs and on random networks.
``examples/check_your_backprop.py`` plants a bug in this backward pass and shows
``check_backprop`` naming the layer where it is.
"""

import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def L_model_forward(X, parameters):
    """[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID, caching ((A_prev, W, b), Z) per layer."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        A_prev = A
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A_prev) + b
        A = sigmoid(Z) if l == L else relu(Z)
        caches.append(((A_prev, W, b), Z))
    return A, caches


def L_model_backward(AL, Y, caches):
    """dZ^[l] = dA^[l] * g'(Z^[l]), dW^[l] = (1/m) dZ^[l] A^[l-1]^T, db^[l] = (1/m) sum dZ^[l],
    dA^[l-1] = W^[l]^T dZ^[l], starting from dAL = -(Y/AL - (1-Y)/(1-AL))."""
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in reversed(range(1, L + 1)):
        (A_prev, W, b), Z = caches[l - 1]
        if l == L:
            s = sigmoid(Z)
            dZ = dA * s * (1 - s)
        else:
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = np.dot(W.T, dZ)
        grads["dA" + str(l - 1)] = dA
    return grads
