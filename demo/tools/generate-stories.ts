/**
 * Writes the 200 demo stories of demo/many.html (`story-001` … `story-200`) into the catalog of
 * paywall.config.json, replacing earlier ones and keeping every other product and field. The
 * server sells only what its config lists, so the batching demo needs them there; generating
 * them keeps the file reviewable. Run it again after changing anything below:
 *
 *   node --import tsx demo/tools/generate-stories.ts [path/to/paywall.config.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const STORY_COUNT = 200;
/** €0.19 each, readable for a week: cheap enough that the start credit buys a good many. */
const PRICE = 19;
const VALIDITY = 7 * 24 * 60 * 60;
const CONTENT = 'content/story.html';

const subjects = ['The ferryman', 'A night nurse', 'The last typesetter', 'Two beekeepers', 'The stationmaster', 'A retired cartographer', 'The piano tuner', 'Three sisters', 'The lighthouse keeper', 'A market gardener'];
const endings = ['who counted the tides', 'and the borrowed bicycle', 'on the late shift', 'who kept every letter', 'and the winter orchard', 'at the edge of the map', 'who never missed a train', 'and the silent radio', 'under the railway arch', 'and the hundred-year storm', 'who mended nets', 'and the empty cinema', 'on the first day of spring', 'who spoke to the river', 'and the lost recipe', 'in the upstairs flat', 'who rang the wrong bell', 'and the paper moon', 'at the border crossing', 'who painted the bridge'];

interface Product {
  id: string;
  title: string;
  price: number;
  currency: string;
  validity: number;
  content?: string;
}

function stories(currency: string): Product[] {
  return Array.from({ length: STORY_COUNT }, (_, i) => {
    const number = String(i + 1).padStart(3, '0');
    const title = `${subjects[i % subjects.length]} ${endings[Math.floor(i / subjects.length) % endings.length]}`;
    return { id: `story-${number}`, title: `Story ${number}: ${title}`, price: PRICE, currency, validity: VALIDITY, content: CONTENT };
  });
}

/** One line per value, `{ "a": 1 }` style, as the file is written by hand. */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(', ')} }`;
  return JSON.stringify(value);
}

function format(config: Record<string, unknown>): string {
  const lines = Object.entries(config).map(([key, value]) => {
    if (key !== 'catalog' || !value || typeof value !== 'object') return `  ${JSON.stringify(key)}: ${inline(value)}`;
    const catalog = Object.entries(value).map(([k, v]) =>
      k === 'products' && Array.isArray(v) ? `    "products": [\n${v.map((p) => `      ${inline(p)}`).join(',\n')}\n    ]` : `    ${JSON.stringify(k)}: ${inline(v)}`,
    );
    return `  "catalog": {\n${catalog.join(',\n')}\n  }`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

const path = resolve(process.argv[2] ?? 'paywall.config.json');
const config = JSON.parse(readFileSync(path, 'utf8')) as { startCredit: { currency: string }; catalog: { products: Product[] } };
const others = config.catalog.products.filter((product) => !/^story-\d{3}$/.test(product.id));
config.catalog.products = [...others, ...stories(config.startCredit.currency)];
writeFileSync(path, format(config));
console.log(`${path}: ${others.length} products kept, ${STORY_COUNT} stories written.`);
