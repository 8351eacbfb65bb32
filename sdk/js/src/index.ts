// @payaiml/lightning-js: the official client for PayAiML Merchant.

export { LightningClient, pairDisplay, type ClientOptions, type PayOptions } from './client.js';
export { LightningApiError } from './errors.js';
export type { EventsOptions, EventStreamState } from './events.js';
export { verifyWebhook, WebhookVerificationError, type VerifyOptions, type WebhookErrorReason } from './webhook.js';
export type * from './types.js';
