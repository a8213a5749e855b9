/**
 * A small, safe XML reader for report files (JUnit): bytes → one root XmlElement.
 *
 * Safety: no DTD (a `<!DOCTYPE` in the prolog is refused, so no entity can be declared: no
 * billion laughs, no external entity), fast-xml-parser runs with `processEntities: false` and only
 * the five predefined entities and character references are decoded here; nesting is bounded.
 * Well-formedness is checked with fast-xml-parser's validator plus the checks it lacks (one root
 * element, undefined entities), since GitLab's Nokogiri refuses any document with an error
 * (lib/gitlab/xml_converter.rb: `raise doc.errors.first unless doc.errors.empty?`).
 */
import { BerthError } from '../shared/errors.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  children: XmlElement[];
  /**
   * The element's own text and CDATA nodes, concatenated, leaving out blank ones (only spaces,
   * tabs, CR, LF), as ActiveSupport's Nokogiri to_hash does (`next if child.blank?`).
   */
  text: string;
}

const BLANK_NODE = /^[ \t\r\n]*$/;

/** A document that is not well-formed XML; `message` reads like libxml2's `line:col: FATAL: ...`. */
export class XmlSyntaxError extends BerthError {
  constructor(message: string) {
    super('junit_report_invalid', message);
  }
}

const MAX_DEPTH = 1024;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&(#[xX][0-9a-fA-F]+|#[0-9]+|[^\s&;]*);?/g;

function decodeReferences(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(REFERENCE, (m, ref: string) => {
    if (!m.endsWith(';') || ref === '') throw new XmlSyntaxError(`xmlParseEntityRef: no name or no ';' in ${JSON.stringify(m)}`);
    if (ref.startsWith('#')) {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      const valid = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
      if (!valid) throw new XmlSyntaxError(`xmlParseCharRef: invalid xmlChar value ${cp}`);
      return String.fromCodePoint(cp);
    }
    const value = PREDEFINED[ref];
    if (value === undefined) throw new XmlSyntaxError(`Entity '${ref}' not defined`);
    return value;
  });
}

/** Refuses a DOCTYPE in the prolog (before the root element): berth reads reports without DTDs. */
function refuseDoctype(text: string): void {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return;
      i = end + 3;
    } else {
      if (text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
        throw new XmlSyntaxError('DOCTYPE is not allowed: berth reads report files without a DTD; remove the <!DOCTYPE> declaration');
      }
      return;
    }
  }
}

/**
 * The text of an XML file: a BOM picks UTF-8/UTF-16, else the declared encoding, else UTF-8.
 * Bytes that are not valid in that encoding are an error, as in libxml2.
 */
export function decodeXmlBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const declared = /^(?:\ufeff|ï»¿)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  let label = 'utf-8';
  if (declared !== undefined && declared !== 'utf-8' && declared !== 'utf8') {
    try {
      new TextDecoder(declared);
      label = declared;
    } catch {
      throw new XmlSyntaxError(`Unsupported encoding ${declared}`);
    }
  }
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    throw new XmlSyntaxError(label === 'utf-8' ? 'Input is not proper UTF-8, indicate encoding !' : `Input is not proper ${label}`);
  }
}

type OrderedNode = Record<string, unknown>;

function toElement(node: OrderedNode, name: string, depth: number): XmlElement {
  if (depth > MAX_DEPTH) throw new XmlSyntaxError(`Excessive depth in document: ${MAX_DEPTH}`);
  const attrs = new Map<string, string>();
  const rawAttrs = node[':@'] as Record<string, unknown> | undefined;
  if (rawAttrs) for (const [k, v] of Object.entries(rawAttrs)) attrs.set(k, decodeReferences(String(v)));
  const el: XmlElement = { name, attrs, children: [], text: '' };
  for (const child of node[name] as OrderedNode[]) {
    if ('#text' in child || '#cdata' in child) {
      const text =
        '#text' in child
          ? decodeReferences(String(child['#text']))
          : (child['#cdata'] as OrderedNode[]).map((part) => String((part['#text'] as string | number | undefined) ?? '')).join('');
      if (!BLANK_NODE.test(text)) el.text += text;
    } else {
      const childName = Object.keys(child).find((k) => k !== ':@');
      if (childName === undefined || childName.startsWith('?') || childName.startsWith('!')) continue;
      el.children.push(toElement(child, childName, depth + 1));
    }
  }
  return el;
}

/**
 * The root element of `text`, or null for a blank document (GitLab treats a blank report as
 * holding nothing, without an error). Throws XmlSyntaxError on anything that is not well-formed.
 */
export function parseXmlDocument(text: string): XmlElement | null {
  if (text.startsWith('\ufeff')) text = text.slice(1);
  if (text.trim() === '') return null;
  refuseDoctype(text);
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    const open = unclosedTags(msg);
    if (open) {
      // The validator names the tags still open at the end as a JSON dump, at 1:1; say it as libxml does, where the data ends.
      const lines = text.split('\n');
      throw new XmlSyntaxError(`${lines.length}:${lines.at(-1)!.length + 1}: FATAL: Premature end of data in tag ${open.at(-1)} (not closed: ${open.join(', ')})`);
    }
    throw new XmlSyntaxError(`${line}:${col ?? 0}: FATAL: ${msg}`);
  }
  let nodes: OrderedNode[];
  try {
    const parser = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      processEntities: false,
      htmlEntities: false,
      cdataPropName: '#cdata',
      ignoreDeclaration: true,
      ignorePiTags: true,
      // Nokogiri's Node#name is the local name, and namespace declarations are no attributes
      removeNSPrefix: true,
      maxNestedTags: MAX_DEPTH,
    });
    nodes = parser.parse(text) as OrderedNode[];
  } catch (err) {
    throw new XmlSyntaxError((err as Error).message);
  }
  const roots = nodes
    .map((n) => ({ n, name: Object.keys(n).find((k) => k !== ':@') }))
    .filter((r): r is { n: OrderedNode; name: string } => r.name !== undefined && !r.name.startsWith('?') && r.name !== '#text');
  if (roots.length === 0) throw new XmlSyntaxError('Start tag expected, no root element found');
  if (roots.length > 1) throw new XmlSyntaxError('Extra content at the end of the document');
  return toElement(roots[0]!.n, roots[0]!.name, 1);
}

/** The tags fast-xml-parser's validator reports as still open (`Invalid '["a", "b"]' found.`), or null. */
function unclosedTags(msg: string): string[] | null {
  const m = /^Invalid '(\[[\s\S]*\])' found\.$/.exec(msg);
  if (!m) return null;
  try {
    const names = JSON.parse(m[1]!) as unknown;
    if (!Array.isArray(names) || names.length === 0) return null;
    const tags = names.filter((n): n is string => typeof n === 'string');
    return tags.length === names.length ? tags : null;
  } catch {
    return null;
  }
}
