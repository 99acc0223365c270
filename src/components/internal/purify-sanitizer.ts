import createDOMPurify from 'dompurify';
import type { FragmentPolicy } from './sanitize-policy';

/**
 * The DOMPurify fallback of `policy` (a lazily loaded chunk): a function that cleans an element's
 * content in place. The policy is handed in, so this chunk shares no module with the main bundle.
 */
export function createPurifier({ elements, globalAttributes }: FragmentPolicy): (root: Element) => void {
  // An instance of its own: the per-element attribute hook must not reach a DOMPurify the page uses.
  const purify = createDOMPurify(window);
  // ALLOWED_ATTR is one list for all elements; the policy's are per element.
  purify.addHook('uponSanitizeAttribute', (element, data) => {
    if (!globalAttributes.includes(data.attrName) && !elements[element.localName]?.includes(data.attrName)) data.keepAttr = false;
  });
  const config = {
    // Text is a "tag" to DOMPurify; comments stay out, as with the platform's `comments: false`.
    ALLOWED_TAGS: ['#text', ...Object.keys(elements)],
    ALLOWED_ATTR: [...new Set([...globalAttributes, ...Object.values(elements).flat()])],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    // Like the platform sanitizer: an element the policy does not list leaves with its content.
    KEEP_CONTENT: false,
    // The tree is parsed once, as the platform path parses it, and never serialized and parsed again.
    IN_PLACE: true as const,
  };
  return (root) => void purify.sanitize(root, config);
}
