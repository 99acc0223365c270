import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { brandBaseUrl } from '../../server/providers/verotel/brands';
import { fromDecimalAmount, toDecimalAmount } from '../../server/providers/decimal-amount';
import { signatureInput, signedUrl, urlSignature, validSignature } from '../../server/providers/verotel/flexpay-signature';
import { parseSaleStatus } from '../../server/providers/verotel/flexpay-status';

/** The official FlexPay vectors (providers.md §1.4), from the PHP and Kotlin clients' own tests. */
const SECRET = 'zpXwe2D77g4P7ysGJcr3rY87TBYs6J';
const DESCRIPTION = 'My Dščřčřřěřě&?=blah123';
const VECTOR_1: Record<string, string> = {
  shopID: '68849', saleID: '433456', priceAmount: '0.00', referenceID: 'reference1234', priceCurrency: 'USD', custom1: 'My',
  description: DESCRIPTION, subscriptionType: 'RECURRING', period: 'P1M', name: 'My name', trialAmount: '0.01', trialPeriod: 'P3D',
  successURL: 'http://backURL.test', declineURL: 'http://declineURL.test', cancelDiscountPercentage: '30', blah: 'something',
};
const received = (params: Record<string, string>, signature: string) => new Map([...Object.entries(params), ['signature', signature]]);
const without = (params: Record<string, string>, ...keys: string[]) => Object.fromEntries(Object.entries(params).filter(([k]) => !keys.includes(k)));

describe('FlexPay signatures: the official vectors', () => {
  test('vector 1: signing filters to the whitelist (blah dropped); validation takes every key (blah kept), upper case accepted', () => {
    assert.equal(
      signatureInput(SECRET, Object.entries(without(VECTOR_1, 'blah'))),
      'zpXwe2D77g4P7ysGJcr3rY87TBYs6J:cancelDiscountPercentage=30:custom1=My:declineURL=http://declineURL.test:description=My Dščřčřřěřě&?=blah123:name=My name:period=P1M:priceAmount=0.00:priceCurrency=USD:referenceID=reference1234:saleID=433456:shopID=68849:subscriptionType=RECURRING:successURL=http://backURL.test:trialAmount=0.01:trialPeriod=P3D',
    );
    assert.equal(urlSignature(SECRET, Object.entries(VECTOR_1)), 'ff5cf9bcc0497c8cb40087065e5016dcfbe2efd23327f6c67614fa23537c24b2');
    const signOfAll = 'e50b4e92fcd0a21114d3bf3a64f888edfbc784df170e70ee165c4350fe9ffc3c';
    assert.equal(validSignature(SECRET, '68849', received(VECTOR_1, signOfAll.toUpperCase())), true);
    assert.equal(validSignature(SECRET, '68849', received(VECTOR_1, signOfAll)), true);
    // The whitelisted signature does not validate data that carries more keys.
    assert.equal(validSignature(SECRET, '68849', received(VECTOR_1, 'ff5cf9bcc0497c8cb40087065e5016dcfbe2efd23327f6c67614fa23537c24b2')), false);
  });

  test('vector 1: the stale SHA-1 fixture (signed with backURL) is rejected', () => {
    assert.equal(validSignature(SECRET, '68849', received(VECTOR_1, '3650ddcc9360de60f4fc78604057c9f3246923cb')), false);
  });

  test('vector 2: shopID defaulted to the client\'s, legacy SHA-1 accepted; URL form-encoding of the non-ASCII description', () => {
    const params = without(VECTOR_1, 'shopID');
    assert.equal(validSignature(SECRET, '68849', received(params, 'fc63f38e2722d2e5bc4f2044ad3ffb2051e89643')), true);
    assert.equal(validSignature(SECRET, '68849', received(params, 'FC63F38E2722D2E5BC4F2044AD3FFB2051E89643')), true);
    assert.equal(validSignature(SECRET, '60678', received(params, 'fc63f38e2722d2e5bc4f2044ad3ffb2051e89643')), false, 'another shop');
    const url = signedUrl(brandBaseUrl('9653000000000000'), '/startorder', SECRET, '68849', { ...without(params, 'blah'), type: 'purchase' });
    assert.ok(url.startsWith('https://secure.bitsafepay.com/startorder?cancelDiscountPercentage=30&custom1=My&declineURL=http%3A%2F%2FdeclineURL.test&description=My+D%C5%A1%C4%8D%C5%99%C4%8D%C5%99%C5%99%C4%9B%C5%99%C4%9B%26%3F%3Dblah123&name=My+name&'), url);
    assert.match(url, /&successURL=http%3A%2F%2FbackURL\.test&trialAmount=0\.01&trialPeriod=P3D&type=purchase&version=4&signature=[0-9a-f]{64}$/);
    const query = new URL(url).searchParams;
    assert.equal(query.get('description'), DESCRIPTION);
    assert.equal(query.get('shopID'), '68849');
    assert.deepEqual([...query.keys()], [...[...query.keys()].slice(0, -1)].sort().concat('signature'));
  });

  test('vector 3 (flexpay4j): filtered signature, validation, purchase URL with unsigned email, upgrade URL verbatim, status URL', () => {
    const params = { ...VECTOR_1, successURL: 'http://successURL.test' };
    assert.equal(urlSignature(SECRET, Object.entries(params)), '1a790e1ebf654b9a38884a5c9a867a7e57134f103a1c9c8d9854da794a839d03');
    assert.equal(validSignature(SECRET, '60678', received(without(params, 'saleID', 'blah'), '0df722dd32b8a9f68e3ae4e3f226651eba1397d7928862635ba32674dc7bed6a')), true);

    const purchase = new URL(signedUrl('https://secure.verotel.com', '/startorder', SECRET, '60678', {
      type: 'purchase', priceAmount: '45.20', priceCurrency: 'EUR', description: DESCRIPTION, paymentMethod: 'CC', referenceID: 'ref1',
      custom1: 'custom1', custom2: 'custom2', custom3: 'custom3', successURL: 'http://example.com/approve', declineURL: 'http://example.com/decline', email: 'foo@example.com',
    }));
    assert.equal(purchase.searchParams.get('signature'), '08a33095ae3f4cee4ba25bc50a4076d11c008b84e40423a1cd436c29d2a9225b');
    assert.equal(purchase.searchParams.get('email'), 'foo@example.com');

    const upgrade = signedUrl('https://secure.verotel.com', '/startorder', SECRET, '60678', {
      type: 'upgradesubscription', custom1: 'custom1 value', name: DESCRIPTION, period: 'P1M', precedingSaleID: '433456', priceAmount: '0.00',
      priceCurrency: 'USD', subscriptionType: 'recurring', successURL: 'http://successURL.test', trialAmount: '0.01', trialPeriod: 'P3D',
    });
    assert.equal(upgrade, 'https://secure.verotel.com/startorder?custom1=custom1+value&name=My+D%C5%A1%C4%8D%C5%99%C4%8D%C5%99%C5%99%C4%9B%C5%99%C4%9B%26%3F%3Dblah123&period=P1M&precedingSaleID=433456&priceAmount=0.00&priceCurrency=USD&shopID=60678&subscriptionType=recurring&successURL=http%3A%2F%2FsuccessURL.test&trialAmount=0.01&trialPeriod=P3D&type=upgradesubscription&version=4&signature=cc4da94d214a4eb64a3f7affa3c39d168a9163c020f9caacca9bfd7498e33abc');

    assert.equal(signedUrl('https://secure.verotel.com', '/salestatus', SECRET, '60678', { saleID: '433456' }),
      'https://secure.verotel.com/salestatus?saleID=433456&shopID=60678&version=4&signature=3a1302367c836c003d1674bf14aab48ef537fae7213f97e054b779940e925c2b');
  });

  test('vector 3: the "returns false" fixtures are rejected', () => {
    const params = without({ ...VECTOR_1, successURL: 'http://successURL.test' }, 'saleID', 'blah');
    assert.equal(validSignature(SECRET, '60678', received(params, '3650ddcc9360de60f4fc78604057c9f3246923cb')), false);
    assert.equal(validSignature(SECRET, '60678', received(params, '0df722dd32b8a9f68e3ae4e3f226651eba1397d7928862635ba32674dc7bed6b')), false, 'one digit changed');
  });

  test('vector 4: the v3.2 SHA-1 example validates as legacy data', () => {
    const key = 'BddJxtUBkDgFB9kj7Zwguxde4gAqha';
    const params = { custom1: 'xxyyzz', description: 'Super video download', priceAmount: '9.99', priceCurrency: 'USD', shopID: '64233', type: 'purchase', version: '3.2' };
    const input = signatureInput(key, Object.entries(params));
    assert.equal(input, 'BddJxtUBkDgFB9kj7Zwguxde4gAqha:custom1=xxyyzz:description=Super video download:priceAmount=9.99:priceCurrency=USD:shopID=64233:type=purchase:version=3.2');
    assert.equal(createHash('sha1').update(input).digest('hex'), '3f27723dc11c49dbd01706410f44e6eeff9e8ebf');
    assert.equal(validSignature(key, '64233', received(params, '3f27723dc11c49dbd01706410f44e6eeff9e8ebf')), true);
    assert.equal(validSignature(key, '64233', received({ ...params, priceAmount: '0.99' }, '3f27723dc11c49dbd01706410f44e6eeff9e8ebf')), false, 'altered amount');
  });

  test('vector 5 (derived): purchase URL, subscription with trial, status', () => {
    const key = 'FlexPay Signature Key';
    assert.equal(signedUrl('https://secure.verotel.com', '/startorder', key, '12345', { type: 'purchase', description: 'Test purchase', priceAmount: '2.64', priceCurrency: 'EUR' }),
      'https://secure.verotel.com/startorder?description=Test+purchase&priceAmount=2.64&priceCurrency=EUR&shopID=12345&type=purchase&version=4&signature=a2a6972f39483f7b6cfc50c4bc3e89c4d57d7d7d863377289eab12d0ce265142');
    const sub = new URL(signedUrl('https://secure.verotel.com', '/startorder', key, '12345', {
      type: 'subscription', subscriptionType: 'recurring', name: 'Test subscription', trialAmount: '5', trialPeriod: 'P7D', priceAmount: '12.64', priceCurrency: 'EUR', period: 'P30D',
    }));
    assert.equal(sub.searchParams.get('signature'), '81d974ef78cdf13a116c8fb7cadfdccf73870cb2c23b71133a9a901149565f26');
    assert.equal(new URL(signedUrl('https://secure.verotel.com', '/salestatus', key, '12345', { saleID: '433456' })).searchParams.get('signature'), '9bf3a0748305f0aa07ded88b118d03ef78684093f73e1a08b1286818649f5739');
  });

  test('empty values are dropped from URLs; a missing or malformed signature never validates', () => {
    const url = new URL(signedUrl('https://secure.verotel.com', '/startorder', SECRET, '1', { type: 'purchase', custom1: '', email: undefined, priceAmount: '0.00' }));
    assert.deepEqual([...url.searchParams.keys()], ['priceAmount', 'shopID', 'type', 'version', 'signature']);
    assert.equal(validSignature(SECRET, '68849', new Map(Object.entries(VECTOR_1))), false);
    assert.equal(validSignature(SECRET, '68849', received(VECTOR_1, '')), false);
    assert.equal(validSignature(SECRET, '68849', received(VECTOR_1, 'not-hex')), false);
  });
});

describe('FlexPay brands, amounts and sale status', () => {
  test('the brand base URL comes from the first four digits of the merchant id', () => {
    assert.equal(brandBaseUrl('9804000000000001'), 'https://secure.verotel.com');
    assert.equal(brandBaseUrl('9762123412341234'), 'https://secure.billing.creditcard');
    assert.equal(brandBaseUrl('9001000000000000'), 'https://secure.yoursafedirect.com');
    assert.throws(() => brandBaseUrl('1234000000000000'));
  });

  test('amounts convert exactly between minor units and nnn.nn', () => {
    assert.deepEqual([0, 5, 49, 100, 1231, 4520, 9_007_199_254_740_991].map(toDecimalAmount), ['0.00', '0.05', '0.49', '1.00', '12.31', '45.20', '90071992547409.91']);
    assert.deepEqual(['12.31', '0.10', '0.1', '7', '45.20', '1000000.01'].map(fromDecimalAmount), [1231, 10, 10, 700, 4520, 100_000_001]);
    assert.deepEqual(['', '12,31', '-1.00', '1.001', '1e3', ' 1.00', '0x10'].map(fromDecimalAmount), [null, null, null, null, null, null, null]);
    assert.throws(() => toDecimalAmount(1.5));
    assert.throws(() => toDecimalAmount(-1));
  });

  test('a sale status is approved only from a saleResult line naming the sale; anything else is unknown', () => {
    assert.deepEqual(parseSaleStatus('433456', '---\nsaleID: 433456\nsaleResult: APPROVED\npriceAmount: 12.31\npriceCurrency: EUR\n'), { saleId: '433456', state: 'approved', amount: 1231, currency: 'EUR' });
    assert.deepEqual(parseSaleStatus('433456', "saleresult: 'approved'"), { saleId: '433456', state: 'approved' });
    assert.equal(parseSaleStatus('433456', 'saleResult: DECLINED').state, 'declined');
    assert.equal(parseSaleStatus('433456', 'saleID: 999\nsaleResult: APPROVED').state, 'unknown');
    assert.equal(parseSaleStatus('433456', '<html>Internal error</html>').state, 'unknown');
    assert.equal(parseSaleStatus('433456', 'saleResult: MAYBE').state, 'unknown');
    assert.equal(parseSaleStatus('433456', '  saleResult: APPROVED').state, 'unknown', 'an indented (nested) line is not the sale\'s result');
  });
});
