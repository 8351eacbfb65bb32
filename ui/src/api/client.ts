// The dashboard reaches the API through the JavaScript SDK's browser entry (@payaiml/lightning-js,
// built from sdk/js/src with the dashboard: see vite.config.ts), so it makes the same requests,
// with the same types and errors (LightningApiError: status, code, message, field), as shops do.
// How the dashboard sets the client up lives here, and the two calls of the shop plugins' pairing
// page, which the SDK (made for shops) does not offer.

import { LightningClient, type components } from '@payaiml/lightning-js';

/** Where the API is (`''`: the page's own origin) and the key to use. */
export interface Connection { baseUrl: string; key: string }

/** The client for a connection. Every action is exactly one request (no retries: the merchant
 *  sees the error and decides whether to try again, and a payment is never sent twice without
 *  them) with no time limit (a payment may take a while to settle, and its outcome is shown). */
export function clientFor(conn: Connection): LightningClient {
  return new LightningClient(conn.key, { baseUrl: conn.baseUrl, retries: 0, timeoutMs: 0 });
}

// Pairing a shop plugin (the `#/authorize` page): the two /v1/greenfield calls, made through the
// client's low-level `request` as the SDK's own methods make theirs.

/** The store id and the BTCPay permissions this shop grants (`GET /v1/greenfield`). */
export type GreenfieldInfo = components['schemas']['GreenfieldInfo'];

/** The body of `POST /v1/greenfield/pairings`: the plugin's name, the permissions kept (of those
 *  `GET /v1/greenfield` lists) and its `selectiveStores`. */
export type GreenfieldPairingRequest = components['schemas']['GreenfieldPairingRequest'];
/** The key made for the plugin, and the permissions to post back with it. */
export type GreenfieldPairing = components['schemas']['GreenfieldPairing'];

export function greenfieldInfo(client: LightningClient): Promise<GreenfieldInfo> {
  return client.request('GET', '/v1/greenfield', { retry: true });
}

/** Refuses a pairing request a browser tab waits on (the desktop app's window). */
export function refusePairing(client: LightningClient, request: string): Promise<unknown> {
  return client.request('POST', `/v1/greenfield/pairings/${encodeURIComponent(request)}/refuse`, {});
}

/** Makes the plugin's key (one request, never repeated: each one makes a key). */
export function approvePairing(client: LightningClient, body: GreenfieldPairingRequest): Promise<GreenfieldPairing> {
  return client.request('POST', '/v1/greenfield/pairings', { body });
}
