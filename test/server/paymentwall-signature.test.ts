import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpAllowlist, PAYMENTWALL_PINGBACK_IPS } from '../../server/providers/paymentwall/ip-allowlist';
import { pingbackParams, pingbackSignature, pingbackSignVersion, signatureBase, signatureMatches, widgetSignature, type PingbackApiType } from '../../server/providers/paymentwall/paymentwall-signature';

/** Vectors from paymentwall-php features/pingback.feature and the fact sheet's derived widget vector (providers.md §2.4). */
const GOODS_SECRET = 'a7408723eaf4bfa2e3ac49b3cb695046';
const VC_SECRET = '6274def95b105f1c92d341a8d3bc2e77';

/** Whether a received query verifies as Paymentwall's library would: its own sign_version, sig compared. */
function verifies(query: string, secret: string, apiType: PingbackApiType): boolean {
  const params = pingbackParams(new Map(new URLSearchParams(query)));
  const version = pingbackSignVersion(params);
  assert.ok(version);
  return signatureMatches(String(params.sig), pingbackSignature(params, secret, version, apiType));
}

const PINGBACKS: Array<{ name: string; query: string; secret: string; apiType: PingbackApiType }> = [
  { name: 'GOODS v2', secret: GOODS_SECRET, apiType: 'goods', query: 'uid=test_user&goodsid=test_product&slength=5&speriod=month&type=0&ref=t123&is_test=1&sign_version=2&sig=754cff93c0eb859f6054bef143ad253c' },
  { name: 'GOODS v3 negative', secret: GOODS_SECRET, apiType: 'goods', query: 'uid=test_user&goodsid=test_product&slength=-5&speriod=month&type=2&ref=t123&is_test=1&reason=9&sign_version=3&sig=2f67209c3e581313a70de9425efef49f35a74c0cdb7f93051b47e3c097011a71' },
  { name: 'GOODS v1', secret: GOODS_SECRET, apiType: 'goods', query: 'uid=test_user&goodsid=test_product&slength=-5&speriod=month&type=2&ref=t123&is_test=1&reason=9&sig=e7b2ff07bc0734c83ee14f32552b1c88' },
  { name: 'VC v1', secret: VC_SECRET, apiType: 'vc', query: 'uid=test_user&currency=1000&type=0&ref=t555&is_test=1&sig=efaacb488ab8ee19321ad513b6908574' },
  { name: 'VC v2', secret: VC_SECRET, apiType: 'vc', query: 'uid=test_user&currency=1000&type=0&ref=t555&is_test=1&sign_version=2&sig=5057977f881bed13592bec928f062b31' },
  { name: 'VC v3', secret: VC_SECRET, apiType: 'vc', query: 'uid=test_user&currency=1000&type=0&ref=t555&is_test=1&sign_version=3&sig=a2932c360010e613166ae95ede5a3fa45bfcac10e1dd93715d21b00d684eb0fb' },
];

describe('Paymentwall signatures: the official vectors', () => {
  for (const vector of PINGBACKS) {
    test(`pingback ${vector.name} verifies; with "foo" appended to sig, or another secret, it does not`, () => {
      assert.equal(verifies(vector.query, vector.secret, vector.apiType), true);
      const sig = new URLSearchParams(vector.query).get('sig')!;
      assert.equal(verifies(vector.query.replace(sig, `${sig}foo`), vector.secret, vector.apiType), false);
      assert.equal(verifies(vector.query, vector.secret === GOODS_SECRET ? VC_SECRET : GOODS_SECRET, vector.apiType), false);
      // Upper-case hex is the same signature.
      assert.equal(verifies(vector.query.replace(sig, sig.toUpperCase()), vector.secret, vector.apiType), true);
    });
  }

  test('pingback base strings: v2/v3 sort every received parameter but sig, v1 uses the fixed GOODS field order', () => {
    const params = (query: string) => {
      const { sig: _sig, ...rest } = pingbackParams(new Map(new URLSearchParams(query)));
      return rest;
    };
    assert.equal(signatureBase(params(PINGBACKS[0]!.query)), 'goodsid=test_productis_test=1ref=t123sign_version=2slength=5speriod=monthtype=0uid=test_user');
    assert.equal(signatureBase(params(PINGBACKS[1]!.query)), 'goodsid=test_productis_test=1reason=9ref=t123sign_version=3slength=-5speriod=monthtype=2uid=test_user');
  });

  test('the known-bad Node VC v1 vector (GOODS fields with "undefined") is rejected', () => {
    const query = 'uid=test_user&currency=1000&type=0&ref=t555&is_test=1&sig=43601b80b7e1928d7c6dadc2860b10bc';
    assert.equal(verifies(query, VC_SECRET, 'vc'), false);
    assert.equal(verifies(query, VC_SECRET, 'goods'), false, 'a missing field is empty, never "undefined"');
  });

  test('an unknown sign_version is not guessed', () => {
    assert.equal(pingbackSignVersion({ sign_version: '4' }), null);
    assert.equal(pingbackSignVersion({}), 1);
    assert.equal(pingbackSignVersion({ sign_version: '1' }), 1);
  });

  const widget = {
    key: 'c22f895840bf2391f67a40da64bfed26', uid: 'user40012', widget: 'pw', amount: '9.99', currencyCode: 'USD', ag_name: 'Gold Membership', ag_external_id: 'product301',
    ag_type: 'subscription', ag_period_length: 1, ag_period_type: 'month', ag_recurring: 1, email: 'user@hostname.com',
  };

  test('widget: the derived v1, v2 and v3 vectors and the v3 base string', () => {
    assert.equal(widgetSignature({ ...widget, sign_version: 1 }, GOODS_SECRET, 1), 'a25b914162cb88a654c7644344b7bc32');
    assert.equal(widgetSignature({ ...widget, sign_version: 2 }, GOODS_SECRET, 2), '1d94eee35b1645cbbc4ce02df42539d1');
    assert.equal(widgetSignature({ ...widget, sign_version: 3 }, GOODS_SECRET, 3), 'def1253daf5b1e62a4b3e691cc4180f033165fdcda8b10e86c2cf03abf84e199');
    assert.equal(signatureBase({ ...widget, sign_version: 3 }), 'ag_external_id=product301ag_name=Gold Membershipag_period_length=1ag_period_type=monthag_recurring=1ag_type=subscriptionamount=9.99currencyCode=USDemail=user@hostname.comkey=c22f895840bf2391f67a40da64bfed26sign_version=3uid=user40012widget=pw');
    // `sign` itself and null values are never signed.
    assert.equal(widgetSignature({ ...widget, sign_version: 3, sign: 'x', lang: null }, GOODS_SECRET, 3), 'def1253daf5b1e62a4b3e691cc4180f033165fdcda8b10e86c2cf03abf84e199');
  });

  test('nested parameters sort under their own name, sub-keys numerically (not "10" before "2"), false as "0"', () => {
    assert.equal(signatureBase({ b: 'x', a_b: 'y', a: { 10: 'ten', 2: 'two', 0: false } }), 'a[0]=0a[2]=twoa[10]=tena_b=yb=x');
    // As received in a pingback query: `a[2]` is an entry of `a`, so it sorts before `a_b`.
    const received = pingbackParams(new Map([['a_b', 'y'], ['a[10]', 'ten'], ['a[2]', 'two'], ['b', 'x']]));
    assert.equal(signatureBase(received), 'a[2]=twoa[10]=tena_b=yb=x');
  });
});

describe('Paymentwall pingback IP allowlist', () => {
  const list = new IpAllowlist(PAYMENTWALL_PINGBACK_IPS);

  test('the library list: its five addresses and 216.127.71.0/24; nothing else', () => {
    for (const ip of ['174.36.92.186', '174.36.96.66', '174.36.92.187', '174.36.92.192', '174.37.14.28', '216.127.71.0', '216.127.71.25', '216.127.71.255']) assert.equal(list.allows(ip), true, ip);
    for (const ip of ['1.2.3.4', '216.127.71.256', '216.127.72.1', '174.36.92.188', '127.0.0.1', '', '::1', 'not an ip', '174.36.92.186.1']) assert.equal(list.allows(ip), false, ip);
    assert.equal(list.allows(null), false);
  });

  test('IPv4-mapped IPv6 peers are their IPv4 address', () => {
    assert.equal(list.allows('::ffff:174.36.92.186'), true);
    assert.equal(list.allows('::FFFF:1.2.3.4'), false);
  });

  test('CIDR ranges of any prefix; a bad entry is refused when the list is built', () => {
    const custom = new IpAllowlist(['10.0.0.0/8', '127.0.0.1']);
    assert.equal(custom.allows('10.255.1.2'), true);
    assert.equal(custom.allows('11.0.0.1'), false);
    assert.equal(custom.allows('127.0.0.1'), true);
    assert.equal(new IpAllowlist(['0.0.0.0/0']).allows('8.8.8.8'), true);
    assert.throws(() => new IpAllowlist(['10.0.0.0/33']), /not an IPv4 address or CIDR range/);
    assert.throws(() => new IpAllowlist(['300.0.0.1']), /not an IPv4 address or CIDR range/);
  });
});
