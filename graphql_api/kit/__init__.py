"""Transport-neutral building blocks shared by the domains (no strawberry, no fastapi)."""
