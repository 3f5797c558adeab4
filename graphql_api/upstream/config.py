"""Tuning knobs of the pension provider client, with production defaults."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PensionClientConfig:
    """Timeouts, retry backoff and circuit breaker settings (all times in seconds).

    Tests shrink the backoff and cool-down so the whole fault matrix runs in seconds.
    """

    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    # Total HTTP attempts per call, the first one included.
    max_attempts: int = 3
    # Jittered exponential backoff: min(backoff_max, backoff_initial * 2**(n-1) + U(0, jitter)).
    backoff_initial: float = 0.1
    backoff_max: float = 2.0
    backoff_jitter: float = 0.2
    # A Retry-After above this is clamped: we still retry, just not later than this.
    retry_after_max: float = 5.0
    # Upper bound on the whole call including backoff; None means attempts alone limit it.
    # A caller's deadline (get_member(deadline=...)) shortens it further, never lengthens it.
    total_timeout: float | None = 20.0
    # No attempt starts, and no backoff sleep begins, unless this much time would be left
    # before the deadline for the attempt itself: a shorter one could not get an answer.
    min_attempt_seconds: float = 0.5
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    # A member document is a few hundred bytes; a huge body is a broken or hostile provider.
    max_response_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        positive = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "backoff_max": self.backoff_max,
            "breaker_cooldown": self.breaker_cooldown,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be > 0")
        non_negative = {
            "backoff_initial": self.backoff_initial,
            "backoff_jitter": self.backoff_jitter,
            "retry_after_max": self.retry_after_max,
            "min_attempt_seconds": self.min_attempt_seconds,
        }
        for name, value in non_negative.items():
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0")
        if self.total_timeout is not None and not self.total_timeout > 0:
            raise ValueError("total_timeout must be > 0 or None")
        if self.max_attempts < 1 or self.breaker_threshold < 1 or self.max_response_bytes < 1:
            raise ValueError("max_attempts, breaker_threshold and max_response_bytes must be >= 1")
