import { applySharedRules, POLICY } from './sanitize-policy';

/** Safe DOM from an untrusted fragment, under the policy of sanitize-policy.ts. */
export type FragmentSanitizer = (html: string) => Promise<DocumentFragment>;

interface SetHtmlElement extends Element {
  setHTML(html: string, options: { sanitizer: PlatformSanitizer }): void;
}
/** The platform's Sanitizer object (not in TypeScript's DOM types yet). */
type PlatformSanitizer = object;
declare const Sanitizer: new (config: typeof PLATFORM_CONFIG) => PlatformSanitizer;

/** The policy as the platform's Sanitizer configuration. */
const PLATFORM_CONFIG = {
  elements: Object.entries(POLICY.elements).map(([name, attributes]) => ({ name, attributes })),
  attributes: POLICY.globalAttributes,
  comments: false,
  dataAttributes: false,
};
/** Made on first use (only browsers with `setHTML` have it); reusing it is faster than a config read on every call. */
let platform: PlatformSanitizer | undefined;
let purify: ((root: Element) => void) | undefined;
let inert: Document | undefined;

/**
 * Where both paths parse a fragment: a `<div>` of a document without a browsing context, so
 * nothing in it loads or runs, and both parse alike (same context, same no-quirks mode).
 */
function holder(): Element {
  return (inert ??= document.implementation.createHTMLDocument('')).createElement('div');
}

/** The holder's sanitized content, after the rules both paths share, as a fragment of the page. */
function finished(sanitized: Element): DocumentFragment {
  applySharedRules(sanitized);
  const fragment = document.createDocumentFragment();
  fragment.append(...sanitized.childNodes);
  return fragment;
}

/** The browser's HTML Sanitizer (`setHTML`), which is always safe and here also keeps to the policy. */
export const platformSanitizer: FragmentSanitizer = async (html) => {
  const sanitized = holder() as SetHtmlElement;
  sanitized.setHTML(html, { sanitizer: (platform ??= new Sanitizer(PLATFORM_CONFIG)) });
  return finished(sanitized);
};

/** DOMPurify under the same policy, for browsers without `setHTML`; loaded the first time it is needed. */
export const purifySanitizer: FragmentSanitizer = async (html) => {
  purify ??= (await import('./purify-sanitizer')).createPurifier(POLICY);
  const parsed = holder();
  parsed.innerHTML = html;
  purify(parsed);
  return finished(parsed);
};

/** The platform's sanitizer where `prototype` (the page's `Element.prototype`) has `setHTML`, else DOMPurify. */
export function sanitizerFor(prototype: object = Element.prototype): FragmentSanitizer {
  return 'setHTML' in prototype ? platformSanitizer : purifySanitizer;
}

/** Turns a fragment from the backend into a container of safe DOM (as is, when `trusted`). */
export async function sanitizedContainer(html: string, trusted: boolean): Promise<HTMLElement> {
  const container = document.createElement('div');
  if (trusted) container.innerHTML = html;
  else container.append(await sanitizerFor()(html));
  return container;
}
