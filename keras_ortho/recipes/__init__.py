"""Training recipes: paper presets, method combinations, MixUp/CutMix draws,
training and comparison."""

from keras_ortho.recipes.comparison import compare
from keras_ortho.recipes.evaluation import evaluate
from keras_ortho.recipes.methods import DEFAULT_FACTORS
from keras_ortho.recipes.methods import METHOD_NAMES
from keras_ortho.recipes.methods import MethodComponents
from keras_ortho.recipes.methods import method_components
from keras_ortho.recipes.methods import method_label
from keras_ortho.recipes.methods import parse_methods
from keras_ortho.recipes.presets import PRESETS
from keras_ortho.recipes.presets import RECIPE_NAMES
from keras_ortho.recipes.presets import get_recipe
from keras_ortho.recipes.recipe import Recipe
from keras_ortho.recipes.results import format_table
from keras_ortho.recipes.results import write_results
from keras_ortho.recipes.sample_mixing import MixingDraw
from keras_ortho.recipes.sample_mixing import SampleMixing
from keras_ortho.recipes.training import TrainingRun
from keras_ortho.recipes.training import build_classifier
from keras_ortho.recipes.training import make_optimizer
from keras_ortho.recipes.training import train
