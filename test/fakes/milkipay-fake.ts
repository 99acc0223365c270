import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http, HttpResponse } from 'msw';

export const MILKIPAY_CLIENT_ID = 'client-paywall-test';
export const MILKIPAY_CLIENT_TOKEN = 'mk_client_token_0123456789abcdef';

/** A Milkipay call as the fake received it. */
export interface MilkipayCall {
  path: string;
  authorization: string | null;
  body: unknown;
}

/**
 * Milkipay as these tests assume it (it has no public docs): codes from the authorize page are
 * exchanged once for a processor token; status-user and payout answer for known tokens, or refuse
 * with the `CAI-…` code a test sets. `handlers()` are msw handlers for the server-to-server API.
 */
export class FakeMilkipay {
  readonly calls: MilkipayCall[] = [];
  readonly #codes = new Map<string, string>();
  readonly #tokens = new Set<string>();
  /** What status-user answers: an account status, or a refusal code. */
  account: { status: string } | { refusal: string } = { status: 'active' };
  /** A CAI code every payout is refused with, `unavailable` for HTTP 503, or null to pay. */
  payoutRefusal: string | 'unavailable' | null = null;
  /** How long a payout takes to answer. */
  payoutDelayMs = 0;

  constructor(readonly baseUrl: string) {}

  /** A one-time code, as the authorize page hands out; the token it will be exchanged for. */
  issueCode(): { code: string; processorToken: string } {
    const code = `code_${randomBytes(9).toString('hex')}`;
    const processorToken = `ptok_${randomBytes(18).toString('hex')}`;
    this.#codes.set(code, processorToken);
    return { code, processorToken };
  }

  callsTo(path: string): MilkipayCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  handlers() {
    const bearer = (request: Request) => /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
    const record = async (request: Request) => {
      const text = request.method === 'POST' ? await request.text() : '';
      this.calls.push({ path: new URL(request.url).pathname, authorization: request.headers.get('authorization'), body: text ? JSON.parse(text) : null });
    };
    const refuse = (code: string) => HttpResponse.json({ code, message: `refused with ${code}` }, { status: 400 });
    const unknownToken = () => new HttpResponse(null, { status: 401 });
    return [
      http.post(`${this.baseUrl}/api/clients/processor-token`, async ({ request }) => {
        await record(request);
        const token = this.#codes.get(bearer(request));
        if (!token) return unknownToken();
        this.#codes.delete(bearer(request));
        this.#tokens.add(token);
        return HttpResponse.json({ processorToken: token });
      }),
      http.get(`${this.baseUrl}/api/clients/status-user`, async ({ request }) => {
        await record(request);
        if (!this.#tokens.has(bearer(request))) return unknownToken();
        return 'refusal' in this.account ? refuse(this.account.refusal) : HttpResponse.json({ status: this.account.status });
      }),
      http.post(`${this.baseUrl}/api/clients/payout`, async ({ request }) => {
        await record(request);
        if (!this.#tokens.has(bearer(request))) return unknownToken();
        if (this.payoutDelayMs) await new Promise((resolve) => setTimeout(resolve, this.payoutDelayMs));
        if (this.payoutRefusal === 'unavailable') return new HttpResponse('upstream down', { status: 503 });
        if (this.payoutRefusal) return refuse(this.payoutRefusal);
        return HttpResponse.json({ payoutId: `po_${this.calls.length}`, status: 'completed' });
      }),
    ];
  }

  /**
   * The reader-facing authorize page on 127.0.0.1: checks the client credentials and shows an
   * "Allow" link that goes back to `redirect_uri` with a fresh code and the `state` it was given.
   */
  async startAuthorizePage(): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const valid = url.pathname === '/clients/authorize' && url.searchParams.get('client_id') === MILKIPAY_CLIENT_ID && url.searchParams.get('client_token') === MILKIPAY_CLIENT_TOKEN;
      const back = url.searchParams.get('redirect_uri');
      if (!valid || !back) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid client');
        return;
      }
      const allow = new URL(back);
      allow.searchParams.set('code', this.issueCode().code);
      allow.searchParams.set('state', url.searchParams.get('state') ?? '');
      const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><html lang="en"><title>Milkipay</title><main><h1>Connect your Milkipay wallet</h1><a id="allow" href="${escape(allow.href)}">Allow</a></main></html>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
}
