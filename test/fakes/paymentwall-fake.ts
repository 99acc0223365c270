import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pingbackParams, pingbackSignature, widgetSignature } from '../../server/providers/paymentwall/paymentwall-signature';

/**
 * A local stand-in for Paymentwall's hosted widget, from the fact sheet (providers.md §2): GET
 * /api/subscription checks the widget signature and shows the product with a "Pay" button; paying
 * sends a signed type 0 pingback (v3) to the backend, as Paymentwall does server to server, then
 * sends the browser to success_url. POST /pingbacks sends a later pingback (12, 2, …) on demand.
 */

export interface FakePayment {
  uid: string;
  goodsid: string;
  ref: string;
  slength: string;
  speriod: string;
}

export interface PaymentwallFake {
  /** `http://127.0.0.1:<port>`; the widget base URL is `${url}/api`. */
  url: string;
  /** Where pingbacks go (the backend's /callbacks/paymentwall); set once the backend listens. */
  pingbackUrl: string | null;
  payments: FakePayment[];
  /** Sends a pingback of `type` for the last payment, as Paymentwall would; returns the backend's answer. */
  pingback(type: string, extra?: Record<string, string>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

function page(response: ServerResponse, status: number, title: string, body: string) {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
}

export async function startPaymentwallFake({ secret }: { secret: string }): Promise<PaymentwallFake> {
  let refs = 0;
  const fake: PaymentwallFake = {
    url: '',
    pingbackUrl: null,
    payments: [],
    async pingback(type, extra = {}) {
      const payment = fake.payments.at(-1);
      if (!payment || !fake.pingbackUrl) throw new Error('no payment to send a pingback for');
      const params: Record<string, string> = { uid: payment.uid, goodsid: payment.goodsid, slength: payment.slength, speriod: payment.speriod, type, ref: payment.ref, is_test: '1', ...extra, sign_version: '3' };
      const sig = pingbackSignature(pingbackParams(new Map(Object.entries(params))), secret, 3, 'goods');
      const response = await fetch(`${fake.pingbackUrl}?${new URLSearchParams({ ...params, sig })}`);
      return { status: response.status, body: await response.text() };
    },
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', fake.url);
      if (request.method === 'GET' && url.pathname === '/api/subscription') {
        const params = Object.fromEntries(url.searchParams);
        const version = Number(params.sign_version);
        if ((version !== 2 && version !== 3) || params.sign !== widgetSignature(params, secret, version)) return page(response, 403, 'Paymentwall', '<p role="alert">Widget not authorized: wrong signature.</p>');
        const period = params.ag_type === 'subscription' ? ` / ${params.ag_period_length} ${params.ag_period_type}` : '';
        return page(response, 200, 'Paymentwall', `<p>${escape(params.ag_name ?? '')}</p><p>${escape(`${params.amount} ${params.currencyCode}${period}`)}</p>
          <form method="post" action="/pay"><input type="hidden" name="widget" value="${escape(url.search.slice(1))}"><button type="submit">Pay</button></form>`);
      }
      if (request.method === 'POST' && url.pathname === '/pay') {
        const widget = new URLSearchParams(new URLSearchParams(await readBody(request)).get('widget') ?? '');
        const payment: FakePayment = {
          uid: widget.get('uid') ?? '', goodsid: widget.get('ag_external_id') ?? '', ref: `fake${Date.now().toString(36)}${++refs}`,
          slength: widget.get('ag_period_length') ?? '', speriod: widget.get('ag_period_type') ?? '',
        };
        fake.payments.push(payment);
        // Paymentwall confirms the payment to the merchant before it sends the reader back.
        const answer = await fake.pingback('0');
        if (answer.status !== 200 || answer.body !== 'OK') return page(response, 502, 'Paymentwall', `<p role="alert">The merchant did not accept the payment (${answer.status}).</p>`);
        response.writeHead(303, { location: widget.get('success_url') ?? '/' });
        return response.end();
      }
      if (request.method === 'POST' && url.pathname === '/pingbacks') {
        const { type, ...extra } = Object.fromEntries(new URLSearchParams(await readBody(request)));
        const answer = await fake.pingback(type ?? '', extra);
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(JSON.stringify(answer));
      }
      response.writeHead(404).end();
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
