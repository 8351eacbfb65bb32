// The dashboard reaches the API through the JavaScript SDK's browser entry (@payaiml/lightning-js,
// built from sdk/js/src with the dashboard: see vite.config.ts), so it makes the same requests,
// with the same types and errors (LightningApiError: status, code, message, field), as shops do.
// Only how the dashboard sets the client up lives here.

import { LightningClient } from '@payaiml/lightning-js';

/** Where the API is (`''`: the page's own origin) and the key to use. */
export interface Connection { baseUrl: string; key: string }

/** The client for a connection. Every action is exactly one request (no retries: the merchant
 *  sees the error and decides whether to try again, and a payment is never sent twice without
 *  them) with no time limit (a payment may take a while to settle, and its outcome is shown). */
export function clientFor(conn: Connection): LightningClient {
  return new LightningClient(conn.key, { baseUrl: conn.baseUrl, retries: 0, timeoutMs: 0 });
}
