// The API's objects under the names the SDK exports. Each is an alias of the types generated from
// the OpenAPI document the server serves (src/generated/openapi.ts, made by
// scripts/gen-api-types.sh), so they follow the API instead of drifting from it; the generated
// file carries every field's description. Statuses, event kinds and error codes are the closed
// unions the document lists; every field of an answer is present (null when it has no value).

import type { components } from './generated/openapi.js';

/** The generated types themselves: `paths`, `operations` and `components` of the document. */
export type { components, operations, paths } from './generated/openapi.js';

type Schemas = components['schemas'];

// Invoices

export type Invoice = Schemas['Invoice'];
/** The body of `createInvoice`: `amount` in sats (omit it for an any-amount invoice). */
export type CreateInvoice = Schemas['CreateInvoice'];
/** The statuses an invoice list can be filtered on. */
export type InvoiceStatus = Schemas['InvoiceStatus'];
/** What a BOLT11 invoice says, from `decodeInvoice`. */
export type DecodedInvoice = Schemas['DecodedInvoice'];

// Offers (static QR)

/** A BOLT12 offer: a payment code that never expires, with what it has received. */
export type Offer = Schemas['Offer'];
/** The body of `createOffer`: no `amount` lets the payer choose (a tip jar). */
export type CreateOffer = Schemas['CreateOffer'];

// Payments

export type Payment = Schemas['Payment'];
/** The body of a payment: the invoice, `amount` for an any-amount invoice, `max_fee` in sats. */
export type PayInvoice = Schemas['PayInvoice'];
/** The statuses a payment list can be filtered on. */
export type PaymentStatus = Schemas['PaymentStatus'];

// Balance

/** The balances in sats, and their value in the merchant's currency (`fiat`, null in sats-only mode). */
export type Balance = Schemas['BalanceBody'];
export type BalanceFiat = Schemas['BalanceFiat'];
export type LightningBalance = Schemas['LightningBalance'];
export type OnchainBalance = Schemas['OnchainBalance'];
/** Closed channels' money on its way back to the on-chain wallet. */
export type ClosingBalance = Schemas['ClosingBalance'];
export type ClosingEntry = Schemas['ClosingEntry'];
export type ClosingState = Schemas['ClosingState'];

// API keys

export type Permission = Schemas['Permission'];
export type ApiKey = Schemas['ApiKey'];
/** The body of `createKey`. */
export type CreateKeyRequest = Schemas['CreateKeyRequest'];
/** A key just created: the stored key and its `secret`, returned this once. */
export type CreatedKey = Schemas['CreatedKey'];
export type RevealedKey = Schemas['RevealedKey'];

// Webhooks

export type Webhook = Schemas['Webhook'];
/** The body of `createWebhook`. */
export type NewWebhook = Schemas['NewWebhook'];
/** An event type an endpoint can subscribe to, or `*` for all of them. */
export type WebhookEventType = NonNullable<NewWebhook['events']>[number];
/** An endpoint just created, with its signing secret (`whsec_…`). */
export type CreatedWebhook = Schemas['CreatedWebhook'];
export type RevealedSecret = Schemas['RevealedSecret'];
export type WebhookAttempt = Schemas['Attempt'];
export type WebhookDelivery = Schemas['Delivery'];

// Events

/** The kind of an event: `payment.received`, `payment.sent`, `payment.failed`, `invoice.expired`,
 *  `channel.opened`, `channel.closed` (and `webhook.test`, sent to one webhook by hand). */
export type EventKind = Schemas['EventKind'];
/** One event of the log: `{id, seq, event, timestamp, ...payload}`. The payload fields depend on
 *  the kind; those most events carry are typed here, the rest are `unknown`. `seq` is null only
 *  in the `webhook.test` event, which is not in the log. */
export interface LightningEvent {
  id: Schemas['EventRecord']['id'];
  seq: Schemas['EventRecord']['seq'] | null;
  /** An `EventKind`; typed as any string too, so a kind added by a newer server still reads. */
  event: EventKind | (string & {});
  timestamp: Schemas['EventRecord']['timestamp'];
  invoice_id?: string | null;
  payment_id?: string;
  amount?: number | null;
  status?: string;
  payment_hash?: string;
  [field: string]: unknown;
}
/** A slice of the log and the `seq` to continue after. */
export type EventsPage = Schemas['EventsBody'];
/** The body of a webhook delivery: an event of the log, or the `webhook.test` event (`seq: null`). */
export type WebhookEvent = LightningEvent;

// Node, health and settings

export type Health = Schemas['Health'];
export type NodeStatus = Schemas['NodeStatus'];
export type NodeState = Schemas['NodeState'];
export type NodeInfo = Schemas['NodeInfo'];
/** Whether the node is ready for payments, check by check. */
export type Readiness = Schemas['Readiness'];
/** A price in a currency, for `createInvoice({ fiat: { amount: '3.50', currency: 'EUR' } })`. */
export type FiatPrice = Schemas['FiatPrice'];
/** A currency the app prices in: USD, EUR, GBP, CHF, CAD, AUD or JPY. */
export type Currency = FiatPrice['currency'];
/** A rate provider's id: coinbase, kraken, bitstamp or coingecko. */
export type RateProviderId = Schemas['Provider'];
/** A value in the merchant's currency at a recorded rate (on invoices and payments). */
export type FiatAmount = Schemas['FiatAmount'];
export type Rates = Schemas['RatesView'];
export type Rate = Schemas['RateView'];
export type RateProvider = Schemas['ProviderView'];
export type DayReport = Schemas['DayReport'];
export type DaysReport = Schemas['DaysReport'];
export type ReportTotals = Schemas['Totals'];
export type ReportBucket = Schemas['Bucket'];
/** The parts (net, taxes, tips) of a day's sales made from a cart, per unit. */
export type ReportParts = Schemas['Parts'];
/** A catalog item: name, price (in a currency, or sats), category, tax, picture, place. */
export type CatalogItem = Schemas['Item'];
/** The body of `createItem`. */
export type NewCatalogItem = Schemas['NewItem'];
/** The body of `changeItem`: what changes (`null` clears). */
export type CatalogItemChange = Schemas['ItemChange'];
/** One item as the catalog's import takes it (and its CSV export writes it). */
export type CatalogImportRow = Schemas['ItemRow'];
/** A tax rate of the catalog. */
export type TaxRateEntry = Schemas['Tax'];
/** The body of `createTax`. */
export type NewTaxRate = Schemas['NewTax'];
/** The body of `changeTax`. */
export type TaxRateChange = Schemas['TaxChange'];
/** A cart to charge: `createInvoice({ cart: { currency: 'EUR', lines: [{ item_id, quantity }], tip: { percent: '10' } } })`. */
export type Cart = Schemas['Cart'];
export type CartLine = Schemas['CartLine'];
export type Tip = Schemas['Tip'];
/** The cashier lock: locked or not, a PIN set, whether the asking key is the cashier's. */
export type CashierStatus = Schemas['CashierStatus'];
/** How the point of sale works: tip presets, and whether the cashier may refund its own sales. */
export type CounterSettings = Schemas['CounterSettings'];
/** The key the dashboard uses after locking (the cashier's) or unlocking (the admin key). */
export type CashierKey = Schemas['CashierKey'];
/** What the customer display shows: `{version, sale, tip_ask, tip_answer}`. */
export type DisplayScreen = Schemas['DisplayBody'];
/** The sale as the customer display shows it (with its QR while it waits). */
export type DisplaySale = Schemas['DisplaySale'];
/** The body of `showOnDisplay`: a sale, a tip question, or neither (the welcome). */
export type DisplayUpdate = Schemas['ScreenUpdate'];
export type TipAsk = Schemas['TipAsk'];
export type TipOption = Schemas['TipOption'];
/** An answer to the display's tip question: a percentage, an `amount`, or neither (no tip). */
export type TipAnswer = Schemas['TipAnswer'];
/** A pairing code for a customer display, with the link and QR when asked for. */
export type DisplayPairing = Schemas['PairingBody'];
/** A paired display's own key (`display:read` only). */
export type PairedDisplay = Schemas['PairedDisplay'];
/** A sale as recorded with its invoice: lines, taxes, tip and total. */
export type Order = Schemas['Order'];
export type OrderLine = Schemas['OrderLine'];
export type TaxLine = Schemas['TaxLine'];
export type ReadinessCheck = Schemas['Check'];
export type Channel = Schemas['Channel'];
export type DepositAddress = Schemas['DepositAddress'];
/** The body of `openChannel`. */
export type OpenChannel = Schemas['OpenChannel'];
export type OpenedChannel = Schemas['OpenedChannel'];
export type Settings = Schemas['Settings'];
/** The body of `changeSettings`: the settings to change. */
export type SettingsChange = Schemas['SettingsChange'];
/** How current the continuous backup is (`health().backup`): both parts together, and each. */
export type BackupStatus = Schemas['BackupStatus'];
/** How current one part of the backup is: the node's channel state, or the shop's data. */
export type BackupPartStatus = Schemas['PartStatus'];
/** `checking`, `up_to_date` or `behind`. */
export type BackupState = Schemas['BackupState'];
/** The backup target in effect from the next start (`getSettings().backup`; never its token). */
export type BackupView = Schemas['BackupView'];
/** A backup target for `changeSettings({ backup })`: a VSS server's URL or an absolute folder. */
export type BackupChange = Schemas['BackupChange'];
/** A recovery from a stale channel state, while it lasts (`health().recovery`). */
export type Recovery = Schemas['Recovery'];
/** The wallet's recovery words (admin key only, after confirming). */
export type RecoveryWords = Schemas['RecoveryWords'];

// The sandbox's customer node (only on `payaimld sandbox`)

export type CustomerNode = Schemas['CustomerNode'];
/** The body of `sandboxInvoice`. */
export type SandboxInvoice = Schemas['SandboxInvoice'];
/** The body of `sandboxPay`. */
export type SandboxPay = Schemas['SandboxPay'];
export type CustomerInvoice = Schemas['CustomerInvoice'];
export type CustomerPayment = Schemas['CustomerPayment'];
export type Mined = Schemas['Mined'];

// Lists and errors

/** A page of a list and the cursor of the next one (absent or null: the last page). Every paged
 *  list of the API has this shape; the document spells it once per item type. */
export type Page<T> = Omit<Schemas['PageBody_Invoice'], 'data'> & { data: T[] };
/** The body of every error answer. */
export type ErrorBody = Schemas['ErrorBody'];
