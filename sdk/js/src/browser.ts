// The browser entry: everything but webhook verification, which belongs on your server (and uses
// Node's crypto).

export { LightningClient, type ClientOptions } from './client.js';
export { LightningApiError } from './errors.js';
export type { EventsOptions } from './events.js';
export type * from './types.js';
