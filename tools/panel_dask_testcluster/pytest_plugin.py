"""pytest fixtures for the real control plane (session-scoped, explicit opt-in)."""
