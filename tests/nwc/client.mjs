// Drives the wallet's Nostr Wallet Connect service with Alby's NWC client (`@getalby/sdk`, npm),
// for the e2e suite (tests/regtest/nwc.rs). One JSON command per line on stdin, one JSON answer
// per line on stdout: {"id", "ok": result} or {"id", "error": {"code", "message"}}; and
// {"notification": …} lines as the wallet's notifications arrive.
//
// Node 20 has no WebSocket global without --experimental-websocket (the suite passes it).
import { createInterface } from "node:readline";
import { NWCClient } from "@getalby/sdk/nwc";
import { SimplePool } from "nostr-tools/pool";

let client;
const answers = new Map(); // request event id -> set of answer event ids seen
let watcher;

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const ops = {
  async connect({ uri }) {
    client?.close();
    client = new NWCClient({ nostrWalletConnectUrl: uri });
    return { walletPubkey: client.walletPubkey, relays: client.relayUrls };
  },
  async info() {
    const service = await client.getWalletServiceInfo();
    const info = await client.getInfo();
    return { service, info, encryption: client.encryptionType };
  },
  get_balance: () => client.getBalance(),
  make_invoice: (p) => client.makeInvoice(p),
  lookup_invoice: (p) => client.lookupInvoice(p),
  list_transactions: (p) => client.listTransactions(p),
  pay_invoice: (p) => client.payInvoice(p),
  multi_pay_invoice: (p) => client.multiPayInvoice(p),
  async subscribe() {
    await client.subscribeNotifications((n) => say({ notification: n }));
    return true;
  },
  // Every answer event the wallet publishes on `relays`, counted per request (its `e` tag): a
  // request answered twice would show two distinct answer events.
  async watch_answers({ relays, wallet }) {
    watcher?.close(relays);
    watcher = new SimplePool();
    watcher.subscribe(relays, { kinds: [23195], authors: [wallet], since: Math.floor(Date.now() / 1000) - 5 }, {
      onevent(event) {
        const e = event.tags.find((t) => t[0] === "e")?.[1];
        const d = event.tags.find((t) => t[0] === "d")?.[1] ?? "";
        if (!answers.has(e)) answers.set(e, new Set());
        answers.get(e).add(`${d}:${event.id}`);
      },
    });
    return true;
  },
  async answers() {
    return Object.fromEntries([...answers].map(([k, v]) => [k, v.size]));
  },
  // A request the client library would not send: a method the wallet lacks, or garbage.
  async raw({ method, params }) {
    return client.executeNip47Request(method, params ?? {}, () => true);
  },
  async close() {
    client?.close();
    setTimeout(() => process.exit(0), 50);
    return true;
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, op, ...args } = JSON.parse(line);
  // Each command runs on its own: a slow payment does not hold the next command back.
  (async () => {
    try {
      const ok = await ops[op](args);
      say({ id, ok: ok ?? null });
    } catch (e) {
      say({ id, error: { code: e.code ?? e.name ?? "ERROR", message: String(e.message ?? e) } });
    }
  })();
}
