// Public LSPS2 providers a merchant can pick from, with the connection details each publishes
// itself (see docs/liquidity.md for the sources and when they were checked). Nothing here is
// contacted until the merchant picks one and the wallet restarts with it.

export interface Provider {
  name: string;
  network: 'bitcoin' | 'testnet' | 'signet';
  nodeId: string;
  address: string;
  /** Where the provider publishes these details and its fees. */
  source: string;
  note: string;
}

export const PROVIDERS: Provider[] = [
  {
    name: 'Megalith LSP (LSPS2)',
    network: 'bitcoin',
    nodeId: '034066e29e402d9cf55af1ae1026cc5adf92eed1e0e421785442f53717ad1453b0',
    address: '64.23.159.177:9735',
    source: 'docs.megalithic.me (LSPS2 page) and github.com/MegalithicBTC/ldk-node',
    note: 'Public, no token published. Its fee is quoted when an invoice needs a channel; your cap below still applies.',
  },
];
