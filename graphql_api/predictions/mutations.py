"""Prediction mutations (being written)."""

import strawberry


@strawberry.type
class PredictionMutation:
    @strawberry.mutation(description="Placeholder until the predictions mutations land.")
    def placeholder_predictions(self) -> bool:
        return False
