import type http from 'node:http';
import { log } from '../../log.js';

/** The HTTP servers' shared guards (the webhook's, the viewer's): no request can end the process. */

/**
 * The request's URL, or undefined after answering 400: a target Node's parser lets through may be
 * no URL ("GET http://[ HTTP/1.1"), and `new URL` throws on it.
 */
export function requestUrl(req: http.IncomingMessage, res: http.ServerResponse, base: string): URL | undefined {
  try {
    return new URL(req.url ?? '/', base);
  } catch {
    res.writeHead(400).end();
    return undefined;
  }
}

/**
 * A request listener nothing thrown escapes (out of the listener it would end the process): the
 * request is answered 500, or its socket closed once headers went out, and logged by the error's
 * name only (its text may quote the request: a link's token).
 */
export function guarded(server: string, route: http.RequestListener): http.RequestListener {
  return (req, res) => {
    try {
      route(req, res);
    } catch (err) {
      log.error({ error: (err as Error)?.name }, `${server}: request failed`);
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
    }
  };
}
