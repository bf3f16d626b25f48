#!/usr/bin/env python3
"""Golden data for tests/feed: real capture lines and their expected normalized fields.

Independent of the C++ parser: expected values come from Python's json + decimal modules.
  /usr/bin/python3 tests/data/feed/make_golden.py [--extract]
--extract re-copies the sample lines from ../shared/data/binance_ws (first trade, bookTicker,
depthUpdate, markPrice of each source and its snapshot line, in file order); without it only the
*.expected files are regenerated from the checked-in *.lines files.
"""
import gzip, json, os, sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', '..', '..', 'shared', 'data', 'binance_ws')
SOURCES = {
    'spot_2024': 'spot/btcusdt_20240808.gz',
    'spot_2023': 'spot/btcusdt_20230405.dat.gz',
    'usdm_2024': 'usdm/btcusdt_20240808.gz',
    'usdm_2023': 'usdm/btcusdt_20230404.dat.gz',
    'cm_2024': 'cm/btcusd_perp_20240808.gz',
}

def extract():
    for name, rel in SOURCES.items():
        want = {'trade', 'bookTicker', 'depth', 'markPrice', 'snapshot'}
        picked = []
        with gzip.open(os.path.join(SHARED, rel), 'rt') as f:
            for line in f:
                js = json.loads(line.split(' ', 1)[1])
                if 'lastUpdateId' in js:
                    kind = 'snapshot'
                else:
                    kind = js['stream'].split('@')[1]
                if kind in want:
                    want.discard(kind)
                    picked.append(line.rstrip('\n'))
                if not want or len(picked) >= 5:
                    break
        with open(os.path.join(HERE, name + '.lines'), 'w') as out:
            out.write('\n'.join(picked) + '\n')

def dec(s):
    d = Decimal(s)
    return f'{d:.8f}'

def ms(v):
    return str(int(v) * 1_000_000)

def expected(line, file_symbol):
    ts, js = line.split(' ', 1)
    local = int(ts) * (1 if len(ts) >= 18 else 1000)
    j = json.loads(js)
    f = [f'local_ts={local}']
    if 'lastUpdateId' in j:
        market = 'futures' if ('E' in j or 'T' in j) else 'spot'
        # A snapshot without "symbol" takes the symbol of its file's streams.
        f = ['kind=depthSnapshot', f'market={market}', f'symbol={j.get("symbol", file_symbol)}'] + f
        f += [f'event_ts={ms(j.get("E", 0))}', f'txn_ts={ms(j.get("T", 0))}',
              f'last_update_id={j["lastUpdateId"]}', f'bids={len(j["bids"])}', f'asks={len(j["asks"])}']
        for side in ('bids', 'asks'):
            lv = j[side]
            f += [f'{side}[0]={dec(lv[0][0])}@{dec(lv[0][1])}', f'{side}[-1]={dec(lv[-1][0])}@{dec(lv[-1][1])}']
        return f
    d = j['data']
    kind = j['stream'].split('@')[1]
    sym = d['s']
    if kind == 'trade':
        market = 'futures' if 'X' in d else 'spot'
        return ['kind=trade', f'market={market}', f'symbol={sym}'] + f + [
            f'event_ts={ms(d["E"])}', f'txn_ts={ms(d["T"])}', f'trade_id={d["t"]}', f'price={dec(d["p"])}',
            f'qty={dec(d["q"])}', f'buyer_is_maker={int(d["m"])}']
    if kind == 'bookTicker':
        market = 'futures' if ('e' in d or 'E' in d) else 'spot'
        return ['kind=bookTicker', f'market={market}', f'symbol={sym}'] + f + [
            f'event_ts={ms(d.get("E", 0))}', f'txn_ts={ms(d.get("T", 0))}', f'update_id={d["u"]}',
            f'bid={dec(d["b"])}@{dec(d["B"])}', f'ask={dec(d["a"])}@{dec(d["A"])}']
    if kind == 'depth':
        market = 'futures' if 'pu' in d else 'spot'
        out = ['kind=depthUpdate', f'market={market}', f'symbol={sym}'] + f + [
            f'event_ts={ms(d["E"])}', f'txn_ts={ms(d.get("T", 0))}', f'U={d["U"]}', f'u={d["u"]}',
            f'pu={d.get("pu", 0)}', f'has_pu={int("pu" in d)}', f'bids={len(d["b"])}', f'asks={len(d["a"])}']
        for side, key in (('bids', 'b'), ('asks', 'a')):
            out += [f'{side}[{i}]={dec(p)}@{dec(q)}' for i, (p, q) in enumerate(d[key])]
        return out
    if kind == 'markPrice':
        return ['kind=markPrice', 'market=futures', f'symbol={sym}'] + f + [
            f'event_ts={ms(d["E"])}', f'mark={dec(d["p"])}', f'index={dec(d["i"])}',
            f'est_settle={dec(d["P"])}', f'funding_rate={dec(d["r"])}', f'next_funding_ts={ms(d["T"])}']
    raise ValueError(kind)

def main():
    if '--extract' in sys.argv:
        extract()
    for name in SOURCES:
        with open(os.path.join(HERE, name + '.lines')) as f, open(os.path.join(HERE, name + '.expected'), 'w') as out:
            file_symbol = None
            for line in f:
                line = line.rstrip('\n')
                if line:
                    j = json.loads(line.split(' ', 1)[1])
                    if 'data' in j and file_symbol is None:
                        file_symbol = j['data']['s']
                    out.write(' '.join(expected(line, file_symbol)) + '\n')

if __name__ == '__main__':
    main()
