// The browser entry: everything but webhook verification, which belongs on your server (and uses
// Node's crypto).

export { LightningClient, pairDisplay, type ClientOptions, type PayOptions } from './client.js';
export { LightningApiError } from './errors.js';
export type { EventsOptions, EventStreamState } from './events.js';
export type * from './types.js';
