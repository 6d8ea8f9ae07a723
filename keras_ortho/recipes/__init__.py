"""Training recipes: paper presets, their settings in groups, method
combinations, MixUp/CutMix draws, training and comparison."""

from keras_ortho.recipes.comparison import compare
from keras_ortho.recipes.methods import METHOD_NAMES
from keras_ortho.recipes.methods import parse_methods
from keras_ortho.recipes.presets import RECIPE_NAMES
from keras_ortho.recipes.presets import get_recipe
from keras_ortho.recipes.recipe import Recipe
from keras_ortho.recipes.results import format_table
from keras_ortho.recipes.sample_mixing import MixingDraw
from keras_ortho.recipes.sample_mixing import SampleMixing
from keras_ortho.recipes.settings import AugmentationSettings
from keras_ortho.recipes.settings import DataSettings
from keras_ortho.recipes.settings import NetworkSettings
from keras_ortho.recipes.settings import OptimizationSettings
from keras_ortho.recipes.settings import OrthogonalitySettings
from keras_ortho.recipes.training import train

__all__ = [
    "METHOD_NAMES",
    "RECIPE_NAMES",
    "AugmentationSettings",
    "DataSettings",
    "MixingDraw",
    "NetworkSettings",
    "OptimizationSettings",
    "OrthogonalitySettings",
    "Recipe",
    "SampleMixing",
    "compare",
    "format_table",
    "get_recipe",
    "parse_methods",
    "train",
]
