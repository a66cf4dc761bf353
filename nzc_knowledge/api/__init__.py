"""The HTTP API: a FastAPI app factory, thin routers that call the services."""
