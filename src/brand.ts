// The provider's name, logo and legal footer on every page and e-mail (CASELLA_CONFIG `brand`, and
// the company data of `seller`, the same fiscal data its invoices carry). Read once at start.
import { readFileSync } from 'node:fs';
import { extname, isAbsolute, resolve, dirname } from 'node:path';

export interface Brand {
  /** The provider's name, in the header, the page titles and the e-mails. */
  name: string;
  /** The logo file's bytes and type, served at logoPath; null: the name alone. */
  logo: { bytes: Buffer; contentType: string; path: string } | null;
  /** The legal footer: company name, partita IVA, registered office; null when `seller` is not configured. */
  legal: LegalFooter | null;
  /** Where holders get help (shown in the footer and e-mails), or null. */
  supportEmail: string | null;
}

export interface LegalFooter {
  companyName: string | null;
  /** "P. IVA …" and, when it differs, "C.F. …" (written so in both languages, as on invoices). */
  ids: string | null;
  /** The registered office's address, in one line. */
  office: string | null;
}

export const DEFAULT_BRAND: Brand = { name: 'Casella', logo: null, legal: null, supportEmail: null };

export class BrandError extends Error {}

const LOGO_TYPES: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png', '.webp': 'image/webp', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };
const LOGO_BYTES_MAX = 512 * 1024;
const TEXT_LENGTH_MAX = 200;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim().slice(0, TEXT_LENGTH_MAX) : null);

/**
 * The registered office from `seller.address`, read defensively: a line of text, or an object with
 * the billing address's fields (street, streetNumber, postalCode, city, province, country).
 */
function officeLine(address: unknown): string | null {
  if (typeof address === 'string') return textOf(address);
  if (!isObject(address)) return null;
  const street = [textOf(address.street), textOf(address.streetNumber)].filter(Boolean).join(' ');
  const city = [textOf(address.postalCode), textOf(address.city), textOf(address.province) ? `(${textOf(address.province)})` : null].filter(Boolean).join(' ');
  const country = textOf(address.country);
  const line = [street, city, country && country !== 'IT' ? country : null].filter(Boolean).join(', ');
  return line || null;
}

/** Company name, partita IVA (and codice fiscale when it differs), registered office; read defensively. */
export function legalFooterOf(seller: unknown): LegalFooter | null {
  if (!isObject(seller)) return null;
  const company = textOf(seller.companyName);
  const vat = textOf(seller.vatNumber);
  const taxCode = textOf(seller.taxCode);
  const office = officeLine(seller.address);
  const ids = [vat ? `P. IVA ${vat}` : null, taxCode && taxCode !== vat ? `C.F. ${taxCode}` : null].filter(Boolean).join(' · ');
  if (!company && !ids && !office) return null;
  return { companyName: company, ids: ids || null, office };
}

/**
 * `brand`: {name?, logoFile?, supportEmail?}; logoFile is a path (relative to the configuration
 * file) to an SVG, PNG, WebP or JPEG of at most 512 KB, served from this site (the pages' CSP loads
 * images only from here). `seller` gives the legal footer.
 */
export function readBrand(config: Record<string, unknown>, configPath: string): Brand {
  const b = config.brand;
  if (b !== undefined && !isObject(b)) throw new BrandError('brand must be an object {name, logoFile, supportEmail}');
  const o = (b ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['name', 'logoFile', 'supportEmail'].includes(key)) throw new BrandError(`brand.${key} is not a known setting (name, logoFile, supportEmail)`);
  }
  if (o.name !== undefined && !textOf(o.name)) throw new BrandError('brand.name must be a non-empty text');
  if (o.supportEmail !== undefined && !(typeof o.supportEmail === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(o.supportEmail))) {
    throw new BrandError('brand.supportEmail must be an e-mail address');
  }
  let logo: Brand['logo'] = null;
  if (o.logoFile !== undefined) {
    if (typeof o.logoFile !== 'string' || !o.logoFile) throw new BrandError('brand.logoFile must be a file path');
    const ext = extname(o.logoFile).toLowerCase();
    const contentType = LOGO_TYPES[ext];
    if (!contentType) throw new BrandError('brand.logoFile must be .svg, .png, .webp or .jpg');
    const file = isAbsolute(o.logoFile) ? o.logoFile : resolve(dirname(configPath), o.logoFile);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new BrandError(`brand.logoFile ${file}: ${(err as Error).message}`);
    }
    if (bytes.length > LOGO_BYTES_MAX) throw new BrandError(`brand.logoFile is larger than ${LOGO_BYTES_MAX / 1024} KB`);
    logo = { bytes, contentType, path: `/assets/logo${ext}` };
  }
  return {
    name: textOf(o.name) ?? DEFAULT_BRAND.name,
    logo,
    legal: legalFooterOf(config.seller),
    supportEmail: typeof o.supportEmail === 'string' ? o.supportEmail : null,
  };
}

/** The brand as e-mails carry it: the logo by its absolute address on this site. */
export const emailBrandOf = (brand: Brand, publicUrl: string) => ({
  name: brand.name,
  logoUrl: brand.logo ? `${publicUrl}${brand.logo.path}` : null,
  legal: brand.legal,
  supportEmail: brand.supportEmail,
});
