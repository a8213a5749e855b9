import { describe, expect, it } from 'vitest';
import { decodeXmlBytes, parseXmlDocument, XmlSyntaxError } from './xml-document.js';

describe('parseXmlDocument', () => {
  it('gives the root element with attributes, children and non-blank text', () => {
    const root = parseXmlDocument('\ufeff<?xml version="1.0"?>\n<!-- c -->\n<a x="1 &amp; 2">\n  <b>one</b>\n  <b><![CDATA[<two>]]></b>\n  tail &#x41;\n</a>\n');
    expect(root).not.toBeNull();
    expect(root!.name).toBe('a');
    expect([...root!.attrs]).toEqual([['x', '1 & 2']]);
    expect(root!.children.map((c) => [c.name, c.text])).toEqual([
      ['b', 'one'],
      ['b', '<two>'],
    ]);
    // blank text nodes are left out, the non-blank one is kept whole
    expect(root!.text).toBe('\n  tail A\n');
  });

  it('is null for a blank document', () => {
    expect(parseXmlDocument('')).toBeNull();
    expect(parseXmlDocument(' \n\t')).toBeNull();
  });

  it.each([
    ['<a>', /^1:\d+: FATAL: /],
    // Tags left open at the end: named as libxml names them, where the data ends (not a dump of the validator's stack at 1:1).
    ['<testsuite>\n<testcase name="a">', /^2:20: FATAL: Premature end of data in tag testcase \(not closed: testsuite, testcase\)$/],
    ['<a/><b/>', /Extra content at the end of the document/],
    ['<a>&bogus;</a>', /Entity 'bogus' not defined/],
    ['<a>&#0;</a>', /invalid xmlChar value 0/],
    ['<!DOCTYPE a><a/>', /DOCTYPE is not allowed/],
    ['<?xml version="1.0"?>\n<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>', /DOCTYPE is not allowed/],
  ])('refuses %j', (xml, message) => {
    expect(() => parseXmlDocument(xml)).toThrow(XmlSyntaxError);
    expect(() => parseXmlDocument(xml)).toThrow(message);
  });
});

describe('decodeXmlBytes', () => {
  it('follows the BOM, then the declared encoding, else UTF-8', () => {
    expect(decodeXmlBytes(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('<a/>', 'utf16le').swap16()]))).toBe('<a/>');
    expect(decodeXmlBytes(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>', 'latin1'))).toContain('<a>é</a>');
    expect(decodeXmlBytes(Buffer.from('<a>ü</a>'))).toBe('<a>ü</a>');
    expect(() => decodeXmlBytes(Buffer.from('<?xml version="1.0" encoding="klingon"?><a/>'))).toThrow('Unsupported encoding klingon');
  });
});
