"""`smartbms serve`: a live twin you operate like the real device, through a web app.

A driver of `smartbms.twin` (it reads `TwinState` and sends commands, never touching the plant):
`server.build_context` makes the device, `server.create_app` the FastAPI app (JSON API under
`/api`, the VictronConnect-like pages, SSE live updates), `server.serve` runs it with uvicorn.
`live.LiveTwin` is the live loop: one twin, many watchers, listeners for integrations.
FastAPI, uvicorn and sse-starlette are the `serve` extra: import this package only to serve.
"""
