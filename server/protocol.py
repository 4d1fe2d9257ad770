"""pygls' protocol, made strict about bad input and our capabilities.

* A request whose parameters do not fit the protocol gets an ``InvalidParams``
  error answer (pygls would only log it, leaving the client waiting); a body
  that is not JSON gets a ``ParseError`` answer; a request before
  ``initialize`` gets ``ServerNotInitialized``.  None of these stop the server.
* ``initialize``: the capabilities pygls computes are adjusted by the session
  (push or pull diagnostics, chosen per client).
* ``workspace/executeCommand``: the request's ``workDoneToken`` is made
  available to the command handler (pygls passes only the arguments).
* Bookkeeping: pygls files the future of every handler it runs under a message
  id in ``_request_futures``, but only a request's answer removes it; the
  futures of notifications (keyed by a fresh uuid) and of the steps of its
  built-in generator handlers (``didChange`` runs as one) stayed forever, about
  1 KiB per edit.  Each future now leaves the table when it is done.
* ``shutdown`` cancels the pending requests without tripping over pygls'
  table (a running ``checkWorkspace`` made it fail with a RuntimeError).
* ``$/cancelRequest`` for a request that was already answered is normal (the
  client cancels what it no longer needs, racing the answer): not a warning.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import RPCRequest

log = logging.getLogger(__name__)

WORK_DONE_TOKEN: contextvars.ContextVar[types.ProgressToken | None] = contextvars.ContextVar(
    "asyncsense_work_done_token", default=None
)

SERVER_NOT_INITIALIZED = -32002
INVALID_PARAMS = -32602
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


@attrs.define
class _BadRequest:
    """A request that could not be read into its protocol type."""

    id: Any
    method: str
    reason: str
    jsonrpc: str = "2.0"


class AsyncsenseProtocol(LanguageServerProtocol):
    _initialize_seen = False

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                cause = exc.__cause__ or exc
                return _BadRequest(data["id"], str(data["method"]), _first_line(cause))
            raise

    def handle_message(self, message):
        if isinstance(message, _BadRequest) and (self._initialize_seen or message.method == types.INITIALIZE):
            log.warning("invalid params for %s (id %s): %s", message.method, message.id, message.reason)
            self._send_response(
                message.id,
                error=types.ResponseError(INVALID_PARAMS, f"invalid params for {message.method}: {message.reason}"),
            )
            return
        if not hasattr(message, "jsonrpc"):
            raise TypeError(f"not a JSON-RPC message: {type(message).__name__}")
        method = getattr(message, "method", None)
        if not self._initialize_seen and method is not None and method != types.INITIALIZE:
            if isinstance(message, (RPCRequest, _BadRequest)):
                self._send_response(
                    message.id, error=types.ResponseError(SERVER_NOT_INITIALIZED, "the server is not initialized yet")
                )
            elif method != types.EXIT:
                log.warning("dropping %s: the server is not initialized yet", method)
                return
            if method != types.EXIT:
                return
        if method == types.INITIALIZE:
            if self._initialize_seen and isinstance(message, RPCRequest):
                self._send_response(
                    message.id, error=types.ResponseError(INVALID_REQUEST, "initialize was already received")
                )
                return
            self._initialize_seen = True
        super().handle_message(message)

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            loop = asyncio.get_running_loop()
            future.add_done_callback(lambda done: self._forget_soon(loop, msg_id, done))

    def _forget_soon(self, loop: asyncio.AbstractEventLoop, msg_id: Any, future: Any) -> None:
        # Later, on the loop: a future can finish inside a loop over the table
        # (shutdown cancels them all) or in pygls' thread pool.
        try:
            loop.call_soon_threadsafe(self._forget, msg_id, future)
        except RuntimeError:  # the loop is closed: the server is gone
            pass

    def _forget(self, msg_id: Any, future: Any) -> None:
        # Only this future's entry: a client may reuse an answered request's id.
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        if msg_id not in self._request_futures:
            log.debug("$/cancelRequest for %s: already answered (or never sent)", msg_id)
            return
        super()._handle_cancel_notification(msg_id)

    def send_parse_error(self, error: Exception) -> None:
        """Answer a body that was not a JSON-RPC message (its id is unknown: null)."""
        code = PARSE_ERROR if isinstance(error, json.JSONDecodeError) else INVALID_REQUEST
        self._send_data(
            {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": _first_line(error)}}
        )

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        result = yield from super().lsp_initialize(params)
        session = getattr(self._server, "session", None)
        if session is not None:
            session.adjust_capabilities(result.capabilities)
        return result

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args):
        # pygls cancels the pending requests while iterating over the table, and a
        # cancelled request's callback removes it from that table: "dictionary changed
        # size during iteration" when a checkWorkspace runs at shutdown.  Cancel them
        # from a copy first; pygls then finds nothing left to cancel.
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        return (yield from super().lsp_shutdown(*args))

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams):
        WORK_DONE_TOKEN.set(params.work_done_token)
        return (yield from super().lsp_workspace__execute_command(params))


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
