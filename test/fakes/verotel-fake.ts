import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureInput, urlSignature } from '../../server/providers/verotel/flexpay-signature';

/** Signed FlexPay data as Verotel sends it (postback, success redirect): SHA-256 over every parameter. */
export function signFlexPayData(key: string, data: Record<string, string>): Record<string, string> {
  return { ...data, signature: createHash('sha256').update(signatureInput(key, Object.entries(data)), 'utf8').digest('hex') };
}

export interface FakeSale {
  saleID: string;
  referenceID: string;
  type: string;
  priceAmount: string;
  priceCurrency: string;
  /** The one-click token the order came with (null: the reader typed a card). */
  usedToken: string | null;
  /** The fresh one-click token its postback handed out. */
  issuedToken: string;
}

export interface VerotelFake {
  url: string;
  /** Where "Pay" sends the postback; set once the backend listens. */
  postbackUrl: string;
  sales: FakeSale[];
  /** The backend's answers to the postbacks, in order. */
  postbackAnswers: Array<{ status: number; body: string }>;
  close(): Promise<void>;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Verotel's hosted pages on 127.0.0.1, from the fact sheet: `/startorder` checks the URL's
 * signature and shows the order with a "Pay" button; paying sends the signed postback (GET, with a
 * fresh one-click token) to the backend and redirects the browser to successURL with the same
 * signed data; `/salestatus` answers for the sales it made.
 */
export async function startVerotelFake(options: { signatureKey: string; shopId: string }): Promise<VerotelFake> {
  const { signatureKey, shopId } = options;
  let nextSale = 7_000_000;
  const fake: VerotelFake = { url: '', postbackUrl: '', sales: [], postbackAnswers: [], close: async () => undefined };
  const signedRequest = (url: URL) => {
    const params = [...url.searchParams].filter(([k]) => k !== 'signature');
    return url.searchParams.get('signature') === urlSignature(signatureKey, params) && url.searchParams.get('shopID') === shopId;
  };
  const readBody = async (request: IncomingMessage) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    return new URLSearchParams(body);
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const html = (status: number, body: string) => response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><title>Verotel</title></head><body><main>${body}</main></body></html>`);
    if (request.method === 'GET' && url.pathname === '/startorder') {
      if (!signedRequest(url)) return html(400, '<h1>Invalid signature</h1>');
      const p = url.searchParams;
      const what = p.get('type') === 'subscription' ? `${p.get('name')} every ${p.get('period')}` : p.get('description');
      return html(200, `<h1>${escape(what ?? '')}</h1><p>${escape(`${p.get('priceAmount')} ${p.get('priceCurrency')}`)}</p>
        ${p.get('oneClickToken') ? '<p>One-click: your saved card</p>' : ''}
        <form method="post" action="/pay"><input type="hidden" name="order" value="${escape(p.toString())}"><button type="submit">Pay</button></form>`);
    }
    if (request.method === 'POST' && url.pathname === '/pay') {
      const order = new URLSearchParams((await readBody(request)).get('order') ?? '');
      if (!signedRequest(new URL(`http://fake/startorder?${order}`))) return html(400, '<h1>Invalid signature</h1>');
      const sale: FakeSale = {
        saleID: String(nextSale++), referenceID: order.get('referenceID') ?? '', type: order.get('type') ?? '',
        priceAmount: order.get('priceAmount') ?? '', priceCurrency: order.get('priceCurrency') ?? '', usedToken: order.get('oneClickToken'), issuedToken: randomBytes(12).toString('hex'),
      };
      fake.sales.push(sale);
      const data = signFlexPayData(signatureKey, {
        shopID: shopId, saleID: sale.saleID, referenceID: sale.referenceID, transactionID: String(nextSale * 10), type: sale.type,
        priceAmount: sale.priceAmount, priceCurrency: sale.priceCurrency, paymentMethod: 'CC', oneClickToken: sale.issuedToken,
        ...(sale.type === 'subscription' ? { event: 'initial', period: order.get('period') ?? '', subscriptionType: 'recurring' } : {}),
      });
      const answer = await fetch(`${fake.postbackUrl}?${new URLSearchParams(data)}`);
      fake.postbackAnswers.push({ status: answer.status, body: await answer.text() });
      const success = order.get('successURL') ?? '';
      response.writeHead(303, { location: `${success}${success.includes('?') ? '&' : '?'}${new URLSearchParams(data)}` }).end();
      return;
    }
    if (request.method === 'GET' && url.pathname === '/salestatus') {
      const sale = fake.sales.find((s) => s.saleID === url.searchParams.get('saleID'));
      if (!signedRequest(url) || !sale) return response.writeHead(400, { 'content-type': 'text/plain' }).end('error: unknown sale');
      return response.writeHead(200, { 'content-type': 'text/plain' }).end(`---\nsaleID: ${sale.saleID}\nsaleResult: APPROVED\npriceAmount: ${sale.priceAmount}\npriceCurrency: ${sale.priceCurrency}\n`);
    }
    html(404, '<h1>Not found</h1>');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((done) => server.close(() => done()));
  return fake;
}
