"""A real Kubernetes control plane for tests, built with go from the module proxy."""
