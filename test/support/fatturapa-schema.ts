// Validates FatturaPA files against the official schema (schemas/fatturapa) with libxml2 compiled to
// WebAssembly: a real XSD validator, no native build, no network (the signature schema's DTD is not fetched).
import { readFileSync } from 'node:fs';
import { validateXML } from 'xmllint-wasm';

const dir = new URL('../../schemas/fatturapa/', import.meta.url);
const schema = readFileSync(new URL('FatturaPA_v1.2.2.xsd', dir), 'utf8').replace(/^\uFEFF/, '');
const signatureSchema = readFileSync(new URL('xmldsig-core.xsd', dir), 'utf8');

export async function schemaErrors(xml: string, fileName = 'invoice.xml'): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName, contents: xml }],
    schema: [{ fileName: 'FatturaPA_v1.2.2.xsd', contents: schema }],
    preload: [{ fileName: 'xmldsig-core.xsd', contents: signatureSchema }],
  });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}
