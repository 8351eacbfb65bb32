// Verifying a webhook: HMAC-SHA256 over "<t>.<raw body>" with the endpoint's secret, and a
// timestamp within the tolerance, before the body is trusted. Node's crypto only.

import { createHmac, timingSafeEqual } from 'node:crypto';

import type { WebhookEvent } from './types.js';

export type WebhookErrorReason = 'malformed_header' | 'bad_signature' | 'too_old';

export class WebhookVerificationError extends Error {
  readonly reason: WebhookErrorReason;
  constructor(reason: WebhookErrorReason, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

export interface VerifyOptions {
  /** How far the signed time may be from now, in seconds (default 300). */
  toleranceSec?: number;
  /** The current time in unix seconds (default: the clock). */
  now?: number;
}

/**
 * Checks a webhook request and returns its event. Pass the body exactly as received (a Buffer or
 * string, before any JSON parsing) and the `PayAiML-Signature` header. Throws
 * WebhookVerificationError saying why otherwise. Dedupe on the returned event's `id`.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  signatureHeader: string | undefined | null,
  secret: string,
  { toleranceSec = 300, now = Date.now() / 1000 }: VerifyOptions = {},
): WebhookEvent {
  const parts = (signatureHeader ?? '').split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v);
  if (!t || !/^\d+$/.test(t) || signatures.length === 0) {
    throw new WebhookVerificationError('malformed_header', 'The PayAiML-Signature header must read t=<unix seconds>,v1=<hex>.');
  }
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const match = signatures.some((hex) => {
    const got = Buffer.from(hex, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  if (!match) {
    throw new WebhookVerificationError('bad_signature',
      'The signature does not match this body and secret (was the body parsed and re-serialised before verifying?).');
  }
  const age = Math.abs(now - Number(t));
  if (age > toleranceSec) {
    throw new WebhookVerificationError('too_old', `The signature is ${Math.round(age)} s old (more than ${toleranceSec} s): a replay, or a wrong clock.`);
  }
  return JSON.parse(body.toString('utf8')) as WebhookEvent;
}
