"""Domain errors of the catalog; the API layer maps them to the surface's error form."""

from __future__ import annotations

from apikeys.exceptions import ValidationFailed


class InvalidTransition(Exception):
    """A product state change that the state machine does not allow from the current state."""

    def __init__(self, event: str, state: str) -> None:
        super().__init__(f"Cannot {event.replace('_', ' ')} a product in state '{state}'")
        self.event = event
        self.state = state


class RecommendationRefused(ValidationFailed):
    """The recommend event cannot start: the shop's guard is off or the product's state forbids it (422)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__("Failed to trigger recommendations", {field: [detail]}, extra={"message": detail})
