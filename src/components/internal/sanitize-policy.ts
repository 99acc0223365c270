/**
 * What a paid fragment may contain: the one policy that both the platform HTML Sanitizer and the
 * DOMPurify fallback are configured from, so both paths give the same DOM for the same fragment.
 * Article markup only: no styles (`<style>`, `style`, `class`, which could reach the page's own
 * rules), no forms, no `id`/`name` (named access would clobber `window.*` and `document.*`).
 * Anything not listed is removed together with its content.
 */

export interface FragmentPolicy {
  /** Allowed elements (HTML namespace), each with the attributes it may have besides the global ones. */
  elements: Readonly<Record<string, readonly string[]>>;
  /** Allowed on every element. */
  globalAttributes: readonly string[];
}

export const POLICY: FragmentPolicy = {
  elements: {
    ...Object.fromEntries(
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'div', 'span', 'section', 'article', 'aside', 'header', 'footer',
        'blockquote', 'pre', 'code', 'kbd', 'samp', 'var', 'em', 'strong', 'b', 'i', 'u', 's', 'small', 'sub', 'sup', 'mark',
        'abbr', 'cite', 'q', 'del', 'ins', 'wbr', 'ul', 'dl', 'dt', 'dd', 'figure', 'figcaption', 'table', 'caption', 'thead',
        'tbody', 'tfoot', 'tr'].map((name) => [name, []]),
    ),
    a: ['href'],
    img: ['src', 'alt', 'width', 'height'],
    ol: ['start', 'reversed'],
    li: ['value'],
    time: ['datetime'],
    colgroup: ['span'],
    col: ['span'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan', 'scope'],
  },
  globalAttributes: ['title', 'lang', 'dir'],
};

/** Attributes holding a URL, and the schemes they may use (relative URLs resolve to the page's). */
const URL_ATTRIBUTES = ['href', 'src'];
const URL_SCHEMES = ['https:', 'http:', 'mailto:'];
/** Attribute values that could end a comment or raw-text element if the markup were parsed again (DOMPurify's own rule). */
const MARKUP_BREAKOUT = /((--!?|])>)|<\/(style|script|title|xmp|textarea|noscript|iframe|noembed|noframes)/i;

function allowedUrl(value: string): boolean {
  try {
    return URL_SCHEMES.includes(new URL(value, document.baseURI).protocol);
  } catch {
    return false;
  }
}

/**
 * The rules neither sanitizer can be configured with alike (URL schemes, markup-like attribute
 * values), applied by both to their output.
 */
export function applySharedRules(root: ParentNode): void {
  for (const element of root.querySelectorAll('*')) {
    for (const { name, value } of [...element.attributes]) {
      if (MARKUP_BREAKOUT.test(value) || (URL_ATTRIBUTES.includes(name) && !allowedUrl(value))) element.removeAttribute(name);
    }
  }
}
