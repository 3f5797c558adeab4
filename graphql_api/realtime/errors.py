"""The typed errors of subscriptions (each reaches the client with `extensions.code`)."""

from graphql_api.kit.errors import PublicError


class SubscriptionNotFoundError(PublicError):
    code = "NOT_FOUND"


class SubscriptionForbiddenError(PublicError):
    code = "FORBIDDEN"


class TooManySubscriptionsPublicError(PublicError):
    code = "TOO_MANY_SUBSCRIPTIONS"


class SlowConsumerError(PublicError):
    code = "SLOW_CONSUMER"


class ReplayTooLargeError(PublicError):
    code = "REPLAY_TOO_LARGE"


class OperationNotAllowedError(PublicError):
    code = "OPERATION_NOT_ALLOWED"


class SubscriptionsUnavailableError(PublicError):
    code = "SERVICE_UNAVAILABLE"


class EventsMissedError(PublicError):
    code = "EVENTS_MISSED"
