"""ASGI entry point for running the service under any ASGI server.

    uvicorn --app-dir api asgi:app --host 0.0.0.0 --port 8000 --workers 1

Settings come from NZC_* environment variables (or a .env file in the working directory); see api/README.md.
One worker per 2 CPU cores is plenty: encoding a query and searching are CPU-bound and run in the threadpool.
"""

from nzc_knowledge.api.app import create_app

app = create_app()
