// The API's objects, as documented in docs/api.md of PayAiML Merchant.

export interface Invoice {
  id: string;
  status: 'pending' | 'paid' | 'expired';
  amount: number | null;
  amount_received: number | null;
  amount_msat: number | null;
  description: string;
  payment_request: string;
  payment_hash: string;
  expiry: number;
  expires_at: string;
  created_at: string;
  paid_at: string | null;
  external_id: string | null;
  metadata: Record<string, unknown>;
}

export interface CreateInvoice {
  amount?: number;
  description: string;
  expiry?: number;
  external_id?: string;
  metadata?: Record<string, unknown>;
}

export interface Payment {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount: number;
  fee: number | null;
  amount_msat: number;
  fee_msat: number | null;
  payment_hash: string;
  preimage: string | null;
  invoice: string;
  description: string | null;
  destination: string | null;
  failure_reason: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface Balance {
  lightning: { spendable: number; receivable: number; max_single_receive: number; total: number };
  onchain: { confirmed: number; unconfirmed: number; spendable: number };
  total: number;
}

export type Permission = 'lightning:read' | 'lightning:receive' | 'lightning:write' | 'keys:manage' | 'node:manage';

export interface ApiKey {
  id: string;
  name: string;
  permissions: Permission[];
  budget: number | null;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  prefix: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
  disabled_at: string | null;
}

export interface WebhookAttempt {
  attempted_at: string;
  status_code: number | null;
  latency_ms: number;
  response: string | null;
  error: string | null;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  attempts: WebhookAttempt[];
  payload: Record<string, unknown>;
}

/** One event of the log: `payment.received`, `payment.sent`, `payment.failed`, `invoice.expired`,
 *  `channel.opened`, `channel.closed` (and `webhook.test` in webhook deliveries). */
export interface LightningEvent {
  id: string;
  seq: number | null;
  event: string;
  timestamp: string;
  invoice_id?: string | null;
  payment_id?: string;
  amount?: number | null;
  status?: string;
  payment_hash?: string;
  [field: string]: unknown;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
