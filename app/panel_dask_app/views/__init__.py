"""Panel views: render state objects, forward user actions to the session."""
