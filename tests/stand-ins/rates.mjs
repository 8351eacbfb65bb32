// A stand-in for the four exchange rate providers, on loopback, answering each request in that
// provider's own documented format (see crates/core/src/rates/providers/). One server serves
// them all, each under its own path: start the app with
//   --rate-url coinbase=http://127.0.0.1:PORT/coinbase,kraken=http://127.0.0.1:PORT/kraken,...
// It prints `rates stand-in: http://127.0.0.1:PORT` when listening, and takes commands at
// POST /control: {"mode": {"kraken": "garbage"}} (ok | slow | garbage | outlier | down, or
// "all"), {"prices": {"EUR": "61000.00"}}. GET /control/hits tells how many requests each got.
//
//   node tests/stand-ins/rates.mjs [port]

import http from 'node:http';

const PROVIDERS = ['coinbase', 'kraken', 'bitstamp', 'coingecko'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'CHF', 'CAD', 'AUD', 'JPY'];

export function startRatesStandIn(port = 0) {
  const prices = { USD: '65000.00', EUR: '60000.00', GBP: '52000.00', CHF: '57000.00', CAD: '90000.00', AUD: '99000.00', JPY: '9800000' };
  const mode = Object.fromEntries(PROVIDERS.map((p) => [p, 'ok']));
  const hits = Object.fromEntries(PROVIDERS.map((p) => [p, 0]));

  function body(provider, currency, price) {
    const lower = currency.toLowerCase();
    switch (provider) {
      case 'coinbase':
        return `{"data":{"amount":"${price}","base":"BTC","currency":"${currency}"}}`;
      case 'kraken': {
        const pair = currency === 'CHF' || currency === 'AUD' ? `XBT${currency}` : `XXBTZ${currency}`;
        return `{"error":[],"result":{"${pair}":{"a":["${price}","1","1.000"],"b":["${price}","1","1.000"],"c":["${price}","0.00100000"],"v":["10.0","20.0"],"p":["${price}","${price}"],"t":[100,200],"l":["${price}","${price}"],"h":["${price}","${price}"],"o":"${price}"}}}`;
      }
      case 'bitstamp':
        return `{"timestamp":"${Math.floor(Date.now() / 1000)}","open":"${price}","high":"${price}","low":"${price}","last":"${price}","volume":"12.3","vwap":"${price}","bid":"${price}","ask":"${price}","side":"0","open_24":"${price}","percent_change_24":"0.00"}`;
      case 'coingecko':
        return `{"bitcoin":{"${lower}":${price}}}`;
      default:
        return '{}';
    }
  }

  function outlying(price) {
    const [whole] = price.split('.');
    return String(BigInt(whole) * 3n / 2n);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://stand-in');
    if (url.pathname === '/control' && req.method === 'POST') {
      let text = '';
      req.on('data', (c) => { text += c; });
      req.on('end', () => {
        const cmd = JSON.parse(text || '{}');
        for (const [who, m] of Object.entries(cmd.mode ?? {})) {
          for (const p of who === 'all' ? PROVIDERS : [who]) mode[p] = m;
        }
        Object.assign(prices, cmd.prices ?? {});
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ mode, prices }));
      });
      return;
    }
    if (url.pathname === '/control/hits') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hits));
      return;
    }
    const provider = url.pathname.split('/')[1];
    if (!PROVIDERS.includes(provider)) {
      res.writeHead(404).end();
      return;
    }
    hits[provider] += 1;
    const asked = (url.pathname + url.search).toUpperCase();
    const currency = CURRENCIES.find((c) => asked.includes(c)) ?? 'USD';
    const price = prices[currency];
    const send = (p) => res.writeHead(200, { 'content-type': 'application/json' }).end(body(provider, currency, p));
    switch (mode[provider]) {
      case 'ok': return send(price);
      case 'outlier': return send(outlying(price));
      case 'garbage': return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please slow down</body></html>');
      case 'slow': return setTimeout(() => send(price), 10_000);
      default: return res.writeHead(502).end('Bad gateway');
    }
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        base,
        server,
        /** The --rate-url value that sends every provider here. */
        rateUrls: PROVIDERS.map((p) => `${p}=${base}/${p}`).join(','),
        async control(cmd) {
          const r = await fetch(`${base}/control`, { method: 'POST', body: JSON.stringify(cmd) });
          return r.json();
        },
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const standIn = await startRatesStandIn(Number(process.argv[2] ?? 0));
  console.log(`rates stand-in: ${standIn.base}`);
}
