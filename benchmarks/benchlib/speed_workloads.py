"""The speed benchmark's workloads and the three systems it trains on them:
skreg, scikit-learn's MLP and a plain PyTorch loop, with the same settings."""

import math
from dataclasses import dataclass

import numpy as np

SYSTEMS = ("skreg", "sklearn", "torch")
HUGE_PATIENCE = 10**9  # n_iter_no_change: with tol=0 no system ever stops early
TORCH_THREADS = 2

# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    data: str  # key of DATASETS
    hidden: tuple
    batch_size: int
    epochs: int
    quick_epochs: int
    solver: str = "adam"
    learning_rate: float = 1e-3
    l2: float = 1e-4
    dtype: str = "float64"
    n_samples: int = 0  # 0: the data set's own size
    quick_samples: int = 0
    description: str = ""

    def epochs_for(self, quick):
        return self.quick_epochs if quick else self.epochs

    def samples_for(self, quick):
        return (self.quick_samples or self.n_samples) if quick else self.n_samples


WORKLOADS = [
    Workload(
        "digits-h100-b200",
        "digits",
        (100,),
        200,
        200,
        20,
        description="load_digits / 16, 1797 x 64, 10 classes",
    ),
    Workload(
        "digits-h100-b32",
        "digits",
        (100,),
        32,
        50,
        5,
        description="load_digits / 16, 1797 x 64, 10 classes",
    ),
    Workload(
        "synth20k-h256x256-b256",
        "synth20k",
        (256, 256),
        256,
        10,
        2,
        description="make_classification(20000, 100, n_informative=30, n_classes=5)",
    ),
    Workload(
        "reg20k-h128x64-sgd",
        "reg20k",
        (128, 64),
        200,
        20,
        3,
        solver="sgd",
        learning_rate=1e-2,
        description="make_regression(20000, 50, n_informative=20, noise=5), y / std(y); "
        "sgd, Nesterov momentum 0.9",
    ),
    Workload(
        "synth100k-h512x512-b512",
        "synth100k",
        (512, 512),
        512,
        2,
        1,
        quick_samples=25000,
        description="make_classification(100000, 200, n_informative=50, n_classes=10)",
    ),
    Workload(
        "synth100k-h512x512-b512-f32",
        "synth100k",
        (512, 512),
        512,
        2,
        1,
        dtype="float32",
        quick_samples=25000,
        description="the same in float32",
    ),
    Workload(
        "sparse20kx5000",
        "sparse",
        (100,),
        200,
        10,
        2,
        description="20000 x 5000 CSR, density 0.005, 5 classes",
    ),
]
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}


def make_data(workload, quick):
    """``(X, y, task)`` of a workload, X in the workload's dtype.

    ``task`` is "classification" (y integer labels) or "regression" (y float,
    unit variance).
    """
    from sklearn.datasets import load_digits, make_classification, make_regression

    n = workload.samples_for(quick)
    dtype = np.dtype(workload.dtype)
    if workload.data == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        task = "classification"
    elif workload.data == "synth20k":
        X, y = make_classification(n or 20000, 100, n_informative=30, n_classes=5, random_state=0)
        task = "classification"
    elif workload.data == "synth100k":
        X, y = make_classification(n or 100000, 200, n_informative=50, n_classes=10, random_state=0)
        task = "classification"
    elif workload.data == "reg20k":
        X, y = make_regression(n or 20000, 50, n_informative=20, noise=5, random_state=0)
        y = y / y.std()
        task = "regression"
    elif workload.data == "sparse":
        import scipy.sparse

        rng = np.random.RandomState(0)
        X = scipy.sparse.random(n or 20000, 5000, density=0.005, format="csr", random_state=rng)
        # Labels from a random linear model, so that there is something to learn.
        scores = X @ rng.standard_normal((5000, 5))
        y = np.argmax(scores, axis=1)
        task = "classification"
        return X.astype(dtype), y, task
    else:
        raise ValueError(workload.data)
    return np.ascontiguousarray(X, dtype=dtype), y, task


def layer_units(workload, X, y, task):
    n_out = len(np.unique(y)) if task == "classification" else 1
    if task == "classification" and n_out == 2:
        n_out = 1
    return [X.shape[1], *workload.hidden, n_out]


def n_weights(units):
    return sum(a * b for a, b in zip(units[:-1], units[1:], strict=True))


# --------------------------------------------------------------------------
# The three systems
# --------------------------------------------------------------------------


def fit_skreg(workload, X, y, task, epochs):
    from skreg import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    model = cls(**common_params(workload, epochs), l2=workload.l2)
    model.fit(X, y)
    return model, model.n_iter_


def fit_sklearn(workload, X, y, task, epochs):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    model = cls(**common_params(workload, epochs), alpha=workload.l2)
    model.fit(X, y)
    return model, model.n_iter_


def common_params(workload, epochs):
    return dict(
        hidden_layer_sizes=workload.hidden,
        activation="relu",
        solver=workload.solver,
        batch_size=workload.batch_size,
        learning_rate="constant",
        learning_rate_init=workload.learning_rate,
        max_iter=epochs,
        shuffle=True,
        random_state=0,
        tol=0.0,
        n_iter_no_change=HUGE_PATIENCE,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    )


class TorchMLP:
    """The plain PyTorch loop a user would write for the same network.

    ``nn.Sequential`` of ``Linear`` + ``ReLU``, each layer's weights and biases
    drawn uniform in scikit-learn's Glorot bounds ``sqrt(6 / (fan_in +
    fan_out))`` (the values differ, the distribution is the same). The loss is
    the mean cross-entropy (or half the mean squared error) of the minibatch
    plus ``0.5 * l2 * sum(W**2) / batch_rows`` over the weight matrices,
    biases unpenalised: scikit-learn's objective, so ``weight_decay=0`` in the
    optimizer. Adam with scikit-learn's betas and epsilon, or SGD with
    Nesterov momentum 0.9. The rows are shuffled anew each epoch
    (``torch.randperm``) and cut into minibatches in that order, as
    scikit-learn does. Sparse input is densified one minibatch at a time.
    """

    def __init__(self, workload, units, task):
        import torch

        torch.set_num_threads(TORCH_THREADS)
        torch.manual_seed(0)
        self.torch = torch
        self.workload = workload
        self.task = task
        self.dtype = {"float64": torch.float64, "float32": torch.float32}[workload.dtype]
        layers, self.weights = [], []
        for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:], strict=True)):
            linear = torch.nn.Linear(fan_in, fan_out, dtype=self.dtype)
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            torch.nn.init.uniform_(linear.weight, -bound, bound)
            torch.nn.init.uniform_(linear.bias, -bound, bound)
            layers.append(linear)
            self.weights.append(linear.weight)
            if i < len(units) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.binary = task == "classification" and units[-1] == 1

    def fit(self, X, y, epochs):
        torch = self.torch
        wl = self.workload
        if wl.solver == "adam":
            optimizer = torch.optim.Adam(
                self.model.parameters(),
                lr=wl.learning_rate,
                betas=(0.9, 0.999),
                eps=1e-8,
                weight_decay=0.0,
            )
        else:
            optimizer = torch.optim.SGD(
                self.model.parameters(),
                lr=wl.learning_rate,
                momentum=0.9,
                nesterov=True,
                weight_decay=0.0,
            )
        sparse = not isinstance(X, np.ndarray)
        X_all = None if sparse else torch.from_numpy(X)
        if self.task == "classification":
            y_all = torch.from_numpy(np.unique(y, return_inverse=True)[1].astype(np.int64))
            if self.binary:
                y_all = y_all.to(self.dtype).reshape(-1, 1)
        else:
            y_all = torch.from_numpy(np.asarray(y, dtype=X.dtype).reshape(-1, 1))
        n = X.shape[0]
        batch = wl.batch_size
        generator = torch.Generator().manual_seed(0)
        self.model.train()
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                if sparse:
                    X_batch = torch.from_numpy(X[rows.numpy()].toarray())
                else:
                    X_batch = X_all[rows]
                y_batch = y_all[rows]
                output = self.model(X_batch)
                if self.task == "regression":
                    loss = 0.5 * torch.mean((output - y_batch) ** 2)
                elif self.binary:
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(output, y_batch)
                else:
                    loss = torch.nn.functional.cross_entropy(output, y_batch)
                penalty = sum(w.pow(2).sum() for w in self.weights)
                loss = loss + 0.5 * wl.l2 * penalty / rows.shape[0]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return self

    def predict_proba(self, X):
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            out = self.model(torch.from_numpy(X))
            if self.binary:
                p = torch.sigmoid(out)
                out = torch.cat([1 - p, p], dim=1)
            else:
                out = torch.softmax(out, dim=1)
        return out.numpy()


def fit_torch(workload, X, y, task, epochs):
    model = TorchMLP(workload, layer_units(workload, X, y, task), task)
    model.fit(X, y, epochs)
    return model, epochs


FITTERS = {"skreg": fit_skreg, "sklearn": fit_sklearn, "torch": fit_torch}


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
