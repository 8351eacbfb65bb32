import { describe, expect, it } from 'vitest';
import { parseAuthorize, unencrypted } from './authorize';

describe('parseAuthorize', () => {
  it('reads a WooCommerce link: repeated permissions, flags, the redirect', () => {
    const r = parseAuthorize('/authorize?permissions=btcpay.store.canviewinvoices&permissions=btcpay.store.cancreateinvoice'
      + '&applicationName=WooCommerce&strict=true&selectiveStores=true&redirect=https%3A%2F%2Fshop.example%2F%3Fbtcpay-settings-callback');
    expect(r.permissions).toEqual(['btcpay.store.canviewinvoices', 'btcpay.store.cancreateinvoice']);
    expect(r.applicationName).toBe('WooCommerce');
    expect(r.strict).toBe(true);
    expect(r.selectiveStores).toBe(true);
    expect(r.redirect?.origin).toBe('https://shop.example');
    expect(r.redirect?.href).toBe('https://shop.example/?btcpay-settings-callback');
  });

  it('takes permissions[] too, once each, and BTCPay\'s defaults', () => {
    const r = parseAuthorize('permissions[]=a&permissions=b&permissions%5B%5D=a&redirect=http://127.0.0.1:8080/cb');
    expect(r.permissions).toEqual(['a', 'b']);
    expect(r.strict).toBe(true);
    expect(r.selectiveStores).toBe(false);
    expect(r.applicationName).toBe('');
    expect(parseAuthorize('strict=False&selectiveStores=True').strict).toBe(false);
    expect(parseAuthorize('strict=False&selectiveStores=True').selectiveStores).toBe(true);
  });

  it('has no redirect unless it is an absolute http(s) address', () => {
    for (const bad of ['', 'redirect=', 'redirect=%2Fcallback', 'redirect=javascript%3Aalert(1)', 'redirect=ftp%3A%2F%2Fx%2F', 'redirect=shop.example']) {
      expect(parseAuthorize(bad).redirect).toBeNull();
    }
  });
});

describe('unencrypted', () => {
  it('is plain http to a host beyond this computer and the local network', () => {
    expect(unencrypted(new URL('http://shop.example/'))).toBe(true);
    expect(unencrypted(new URL('http://203.0.113.5/'))).toBe(true);
    expect(unencrypted(new URL('https://shop.example/'))).toBe(false);
    for (const local of ['http://localhost:8080/', 'http://127.0.0.1/', 'http://[::1]/', 'http://192.168.1.20/',
      'http://10.0.0.2/', 'http://172.20.0.1/', 'http://shop.local/', 'http://nas/']) {
      expect(unencrypted(new URL(local))).toBe(false);
    }
  });
});
