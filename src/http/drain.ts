import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The responses not yet sent, so that a shutdown can make them close their connections. */
export function trackUnanswered(server: Server): Set<ServerResponse> {
  const unanswered = new Set<ServerResponse>();
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    unanswered.add(response);
    response.once('close', () => unanswered.delete(response));
  });
  return unanswered;
}

/**
 * Stops accepting connections and resolves once every open one has closed, before the app (and its database) is
 * closed. Fastify's close alone would not do: it answers 503 to a request it reads after the close began (one still
 * in a socket's buffer when the signal came, on a busy process), and a kept-alive connection whose request was in
 * flight stays open after its answer until its keep-alive timeout, holding the shutdown up to SHUTDOWN_TIMEOUT_S.
 * Here every answer from now on closes its connection, and requests read meanwhile are served normally.
 */
export function drainConnections(server: Server, unanswered: Set<ServerResponse>): Promise<void> {
  const closeAfterAnswer = (response: ServerResponse) => {
    if (!response.headersSent) response.shouldKeepAlive = false;
  };
  for (const response of unanswered) closeAfterAnswer(response);
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) =>
    closeAfterAnswer(response),
  );
  return new Promise((resolve) => {
    // server.close() also drops idle kept-alive connections at once. Deferred to after this turn of the event loop,
    // where the sockets that had data before the signal are read (libuv runs signal handlers after the other I/O
    // of the same poll), so that a request already in a socket's buffer has made its connection busy by then.
    setImmediate(() => server.close(() => resolve()));
  });
}
