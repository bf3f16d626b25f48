// tests/venue/peer_binance.js — a standard Binance client library (npm `binance`, tiagosiebler)
// against `tickrt sim`: public endpoints, a signed order placed, queried and cancelled, and a
// request signed with the wrong secret refused with -1022. Exit 0 = all checks passed.
// Usage: NODE_PATH=<peers>/node_modules node peer_binance.js <baseUrl> <apiKey> <secret>
'use strict';
const { MainClient } = require('binance');

const [baseUrl, apiKey, secret] = process.argv.slice(2);
let failures = 0;
function check(cond, what, detail) {
  if (cond) {
    console.log('ok   ' + what);
  } else {
    failures++;
    console.log('FAIL ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : ''));
  }
}

async function main() {
  const client = new MainClient({ api_key: apiKey, api_secret: secret, baseUrl });
  check((await client.testConnectivity()) !== undefined, 'GET /api/v3/ping');
  // (getServerTime() ignores the baseUrl option in this library version: it always asks the real
  // api.binance.com, so the clock is checked through exchangeInfo's serverTime instead.)
  const info = await client.getExchangeInfo({ symbol: 'BTCUSDT' });
  check(Math.abs(Number(info.serverTime) - Date.now()) < 5000, 'serverTime', info.serverTime);
  check(info.symbols && info.symbols[0].symbol === 'BTCUSDT', 'GET /api/v3/exchangeInfo', info.symbols);
  const book = await client.getOrderBook({ symbol: 'BTCUSDT', limit: 5 });
  check(typeof book.lastUpdateId === 'number' && Array.isArray(book.bids), 'GET /api/v3/depth', book);

  const placed = await client.submitNewOrder({
    symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: 0.001, price: 30000,
  });
  check(placed.status === 'NEW' && placed.orderId > 0, 'POST /api/v3/order (signed)', placed);
  const q = await client.getOrder({ symbol: 'BTCUSDT', orderId: placed.orderId });
  check(q.status === 'NEW' && q.price === '30000.00000000', 'GET /api/v3/order', q);
  const open = await client.getOpenOrders({ symbol: 'BTCUSDT' });
  check(Array.isArray(open) && open.length === 1, 'GET /api/v3/openOrders', open);
  const c = await client.cancelOrder({ symbol: 'BTCUSDT', orderId: placed.orderId });
  check(c.status === 'CANCELED', 'DELETE /api/v3/order', c);
  const acct = await client.getAccountInformation();
  check(Array.isArray(acct.balances) && acct.balances.some((b) => b.asset === 'USDT'), 'GET /api/v3/account', acct);

  const bad = new MainClient({ api_key: apiKey, api_secret: secret + 'x', baseUrl });
  try {
    await bad.submitNewOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: 0.001, price: 30000 });
    check(false, 'wrong secret refused');
  } catch (e) {
    check(e && e.code === -1022, 'wrong secret refused with -1022', e && { code: e.code, message: e.message });
  }
}

main()
  .catch((e) => {
    failures++;
    console.log('FAIL unexpected error: ' + JSON.stringify(e && (e.body || e.message || e)));
  })
  .finally(() => {
    console.log(failures === 0 ? 'all checks passed' : failures + ' check(s) failed');
    process.exit(failures === 0 ? 0 : 1);
  });
