"""What an AI agent reads about a member before it advises."""
