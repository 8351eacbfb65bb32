// Game rewards: the game pays a player's invoice when they win. The key it uses has only
// `lightning:write` and a daily budget, so a bug or a cheat cannot drain the node.

import { LightningApiError, LightningClient } from '@payaiml/lightning-js';

export function createRewards({ apiKey, baseUrl }) {
  const client = new LightningClient(apiKey, { baseUrl });
  return {
    /** Pays `invoice` (the player's BOLT11) as a reward; explains a refusal. */
    async reward(playerInvoice, { matchId }) {
      try {
        // The match id as idempotency key: a retried reward for the same match pays once.
        const payment = await client.payInvoice(playerInvoice, { idempotencyKey: `reward-${matchId}` });
        return { ok: payment.status === 'succeeded', payment };
      } catch (e) {
        if (e instanceof LightningApiError && e.code === 'budget_exceeded') {
          return { ok: false, reason: 'daily reward budget used up', message: e.message };
        }
        throw e;
      }
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [invoice, matchId = 'match-1'] = process.argv.slice(2);
  const result = await createRewards({ apiKey: process.env.PAYAIML_API_KEY }).reward(invoice, { matchId });
  console.log(result);
}
