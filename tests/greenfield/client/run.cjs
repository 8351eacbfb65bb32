// Drives the Greenfield-compatible API with btcpay-greenfield-node-client (npm, MIT, generated
// from BTCPay Server's OpenAPI document): every call of the subset it offers, as a shop's
// integration would make them. Prints one JSON object of what it read; exits non-zero at the
// first call that fails. Usage: BASE_URL=… API_KEY=… STORE_ID=… node run.cjs
'use strict';
const {
  OpenAPI, ApiKeysService, InvoicesService, ServerInfoService, StoresService, WebhooksService,
} = require('btcpay-greenfield-node-client');

OpenAPI.BASE = process.env.BASE_URL.replace(/\/+$/, '');
OpenAPI.TOKEN = process.env.API_KEY;
const storeId = process.env.STORE_ID;

async function main() {
  const out = {};
  out.version = (await ServerInfoService.serverInfoGetServerInfo()).version;
  out.permissions = (await ApiKeysService.getApiKeysService()).permissions;
  out.stores = (await StoresService.storesGetStores()).map((s) => s.id);
  out.storeName = (await StoresService.storesGetStore({ storeId })).name;
  const made = await InvoicesService.invoicesCreateInvoice({
    storeId,
    requestBody: { amount: '1500', currency: 'SATS', metadata: { orderId: 'node-1', itemDesc: 'Mug' },
      checkout: { expirationMinutes: 30, redirectURL: 'https://shop.example/thanks' } },
  });
  out.created = { id: made.id, status: made.status, amount: made.amount, checkoutLink: made.checkoutLink };
  out.read = (await InvoicesService.invoicesGetInvoice({ storeId, invoiceId: made.id })).status;
  const methods = await InvoicesService.invoicesGetInvoicePaymentMethods({ storeId, invoiceId: made.id });
  out.methods = methods.map((m) => ({ id: m.paymentMethodId || m.paymentMethod, due: m.due, destination: m.destination }));
  out.listed = (await InvoicesService.invoicesGetInvoices({ storeId })).map((i) => i.id);
  out.marked = (await InvoicesService.invoicesMarkInvoiceStatus({
    storeId, invoiceId: made.id, requestBody: { status: 'Invalid' },
  })).status;
  const hook = await WebhooksService.postWebhooksService({
    storeId,
    requestBody: { url: 'https://shop.example/hook', enabled: true, automaticRedelivery: false,
      authorizedEvents: { everything: false, specificEvents: ['InvoiceSettled'] }, secret: 'node-secret' },
  });
  out.hook = { id: hook.id, secret: hook.secret };
  out.hooks = (await WebhooksService.webhokksGetWebhooks({ storeId })).map((w) => w.id);
  const changed = await WebhooksService.putWebhooksService({
    storeId, webhookId: hook.id,
    requestBody: { url: 'https://shop.example/hook2', enabled: false, automaticRedelivery: true,
      authorizedEvents: { everything: true } },
  });
  out.changed = { url: changed.url, enabled: changed.enabled };
  out.got = (await WebhooksService.webhokksGetWebhook({ storeId, webhookId: hook.id })).url;
  await WebhooksService.deleteWebhooksService({ storeId, webhookId: hook.id, requestBody: {} });
  out.afterDelete = (await WebhooksService.webhokksGetWebhooks({ storeId })).map((w) => w.id);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`btcpay-greenfield-node-client failed: ${e.message} ${e.body ? JSON.stringify(e.body) : ''}`);
  process.exit(1);
});
