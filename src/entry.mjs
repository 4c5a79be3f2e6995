// The Worker's entry point: the issuer compiled from Rust (./index.js, made by worker-build),
// wrapped so that a panic answers the request it broke with the issuer's own 500
// `server_error` instead of the runtime's error page.
//
// The Wasm is built with panic=abort: a panic traps (`WebAssembly.RuntimeError`) and leaves
// the instance unusable. worker-build's glue notices the trap (a throw from the call, or an
// uncaught error when the panic happened after an await) and makes a fresh instance for the
// next request. A trap during the first, synchronous part of a request rejects that request's
// promise; one after an await never settles it, so every request waiting on this isolate's
// instance is answered here when the uncaught trap is reported: they all depended on the
// memory it destroyed. Nothing else (a failed log write in waitUntil) is treated as a trap.
import { WorkerEntrypoint } from 'cloudflare:workers';
import Issuer from './index.js';

/** Rejecters of the requests in flight in this isolate. */
const inFlight = new Set();

function trapped(error) {
  if (!(error instanceof WebAssembly.RuntimeError)) return;
  for (const reject of inFlight) reject(error);
  inFlight.clear();
}
addEventListener('error', (event) => trapped(event.error));
addEventListener('unhandledrejection', (event) => trapped(event.reason));

function serverError() {
  return new Response('{"error":"server_error"}', {
    status: 500,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
  });
}

export default class Entry extends WorkerEntrypoint {
  async fetch(request) {
    let reject;
    const trap = new Promise((_, r) => { reject = r; });
    inFlight.add(reject);
    try {
      return await Promise.race([new Issuer(this.ctx, this.env).fetch(request), trap]);
    } catch (error) {
      console.error('server_error: the request failed in the Worker:', error);
      return serverError();
    } finally {
      inFlight.delete(reject);
    }
  }

  async scheduled(controller) {
    return new Issuer(this.ctx, this.env).scheduled(controller);
  }
}
