"""The order of the gallery: the regularizers one by one, then tuning, then speed."""

import os

READING_ORDER = [
    "plot_l1_feature_selection.py",
    "plot_group_lasso_path.py",
    "plot_dropout_overfitting.py",
    "plot_dropout_max_norm.py",
    "plot_early_stopping.py",
    "plot_regression_early_stopping.py",
    "plot_time_ordered_validation.py",
    "plot_class_weight_imbalanced.py",
    "plot_modern_regularizers.py",
    "plot_grid_search_regularizers.py",
    "plot_callbacks_scoring_monitor.py",
    "plot_speed_vs_sklearn.py",
]


class ReadingOrder:
    """sphinx-gallery sort key: examples in READING_ORDER first, in that order.

    An example missing from the list comes after the listed ones, by file
    name, so a new example shows up without a change here.
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        if name in READING_ORDER:
            return (READING_ORDER.index(name), name)
        return (len(READING_ORDER), name)

    def __repr__(self):
        # sphinx-gallery compares the configuration between builds by repr.
        return f"<{type(self).__name__}>"
