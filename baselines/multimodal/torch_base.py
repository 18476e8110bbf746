"""torch and RecBole for the model modules; RecBole comes through the shim module's
``import_recbole``, which applies every compatibility shim before RecBole loads.

Only the registry loads the model modules, so importing ``benchmark`` stays light. The model
classes are module-level because RecBole pickles the model class into each checkpoint (inside its
Config); ``MultimodalRecommender.fit`` allowlists them for weights-only loading.
"""

from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmark.compat.recbole_shims import import_recbole

if TYPE_CHECKING:  # the names, for type checkers; at run time RecBole loads after its shims
    from recbole.model.abstract_recommender import GeneralRecommender
    from recbole.utils import InputType
else:
    GeneralRecommender = import_recbole("recbole.model.abstract_recommender").GeneralRecommender
    InputType = import_recbole("recbole.utils").InputType

__all__ = ["DotProductRecommender", "F", "GeneralRecommender", "InputType", "nn", "torch"]


class DotProductRecommender(GeneralRecommender):
    """Scoring shared by models whose ``_representations()`` return the final user and item
    vectors (MMGCN, LATTICE): a pair's score is their dot product."""

    def _representations(self):
        raise NotImplementedError

    def predict(self, interaction):
        users, items = self._representations()
        return (users[interaction[self.USER_ID]] * items[interaction[self.ITEM_ID]]).sum(1)

    def full_sort_predict(self, interaction):
        users, items = self._representations()
        return (users[interaction[self.USER_ID]] @ items.T).view(-1)
