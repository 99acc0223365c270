import { until } from './mock-backend';

/**
 * Watches the windows the page opens (real popups, or null when `blocked`). The hosted pages the
 * kit navigates them to are on the test page's origin, so a test can read their URL and post
 * from inside them as the real hosted page would.
 */
export class Popups {
  readonly opened: Window[] = [];
  /** Calls to window.open, including blocked ones. */
  calls = 0;
  blocked = false;
  readonly #original = window.open;

  constructor() {
    const self = this;
    window.open = function (this: Window, ...args: Parameters<typeof window.open>) {
      self.calls++;
      if (self.blocked) return null;
      const opened = self.#original.apply(window, args);
      if (opened) self.opened.push(opened);
      return opened;
    } as typeof window.open;
  }

  get last(): Window | undefined {
    return this.opened[this.opened.length - 1];
  }

  /** The last popup once it shows `pathname` (a hosted page), with its URL. */
  async at(pathname: string): Promise<{ win: Window; url: URL }> {
    await until(() => {
      try {
        const win = this.last;
        return win && !win.closed && win.location.pathname === pathname && win.document.readyState === 'complete';
      } catch {
        return false;
      }
    }, 5000, `a popup at ${pathname}`);
    return { win: this.last!, url: new URL(this.last!.location.href) };
  }

  restore() {
    window.open = this.#original;
    for (const win of this.opened) if (!win.closed) win.close();
  }
}

/**
 * Posts `message` from inside `win` to its opener (or `parent`), as a hosted page does: the
 * script runs in `win`, so `event.source` is `win`.
 */
export function postFromPopup(win: Window, message: unknown, targetOrigin = location.origin, to: 'opener' | 'parent' = 'opener') {
  (win as Window & { eval(code: string): unknown }).eval(`${to}.postMessage(${JSON.stringify(message)}, ${JSON.stringify(targetOrigin)})`);
}
