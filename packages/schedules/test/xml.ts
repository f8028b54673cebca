/**
 * A tiny XML well-formedness checker for the tests (no XML parser is a dependency of this repo):
 * one optional declaration, then one root element; tags nest and close in order; attributes are
 * quoted and unique per element; text has no raw `<` and only the five named or numeric entities.
 * Returns the list of problems (empty when well-formed) and the elements found.
 */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  text: string;
}

const NAME = "[A-Za-z_][\\w.:-]*";
const TAG = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"<]*")*)\\s*(/?)>`, "y");
const ATTR = new RegExp(`(${NAME})\\s*=\\s*"([^"<]*)"`, "g");
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

const unescapeXml = (s: string): string =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

export const checkXml = (xml: string): { problems: string[]; elements: XmlElement[] } => {
  const problems: string[] = [];
  const elements: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let roots = 0;
  let i = 0;
  const decl = /^<\?xml [^?]*\?>\s*/.exec(xml);
  if (decl) i = decl[0].length;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (ENTITY.test(text)) problems.push(`bad entity in text at ${i}`);
    if (text.trim() !== "") {
      const top = stack[stack.length - 1];
      if (top === undefined) problems.push(`text outside the root at ${i}`);
      else top.text += unescapeXml(text);
    }
    if (lt === -1) break;
    TAG.lastIndex = lt;
    const m = TAG.exec(xml);
    if (!m) {
      problems.push(`malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
      break;
    }
    const [whole, close, name, attrText, selfClose] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    if (close) {
      const top = stack.pop();
      if (top?.name !== name) problems.push(`</${name}> closes <${top?.name}> at ${lt}`);
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText.matchAll(ATTR)) {
        const [, key, value] = a as unknown as [string, string, string];
        if (key in attrs) problems.push(`duplicate attribute ${key} at ${lt}`);
        if (ENTITY.test(value)) problems.push(`bad entity in attribute ${key} at ${lt}`);
        attrs[key] = unescapeXml(value);
      }
      const el: XmlElement = { name, attrs, text: "" };
      elements.push(el);
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(el);
    }
    i = lt + whole.length;
  }
  if (stack.length > 0) problems.push(`unclosed <${stack.map((e) => e.name).join("><")}>`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return { problems, elements };
};
