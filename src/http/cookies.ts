// The holder's session cookie, shared by the JSON API and the web pages (R12).
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLocale, localeFromAcceptLanguage, type Locale } from '../i18n/format.ts';
import { SESSION_IDLE_MS, type OpenedSession } from '../services/access/sessions.ts';

export const SESSION_COOKIE = 'casella_session';
/** The language chosen before logging in (after login it is the holder's `locale`). */
export const LANG_COOKIE = 'casella_lang';

/** The language this browser chose with the switch, if it did. */
export function chosenLocale(req: FastifyRequest): Locale | null {
  const c = req.cookies[LANG_COOKIE];
  return isLocale(c) ? c : null;
}

/** The language of the pages before login: the browser's choice, else what it asks for (Accept-Language), else Italian. */
export function visitorLocale(req: FastifyRequest): Locale {
  return chosenLocale(req) ?? localeFromAcceptLanguage(req.headers['accept-language']) ?? 'it';
}
const LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

/** The browser's language cookie, kept in step with the holder's stored locale when they choose one. */
export function langCookieOptions(publicUrl: string): CookieSerializeOptions {
  return { path: '/', sameSite: 'lax', httpOnly: true, secure: publicUrl.startsWith('https:'), maxAge: LANG_COOKIE_MAX_AGE_S };
}

export function sessionCookieOptions(publicUrl: string): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: publicUrl.startsWith('https:'),
    maxAge: Math.floor(SESSION_IDLE_MS / 1000) * 48, // the server-side idle timeout is what ends a session
  };
}

/** R19: a staff member's console session: its own cookie, never a holder's. */
export const STAFF_COOKIE = 'casella_staff';

export function staffCookieOptions(publicUrl: string): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: publicUrl.startsWith('https:'), maxAge: 12 * 3600 };
}

/** R12: the device cookie of a browser that logged in before (services/access/device-cookies.ts). */
export const DEVICE_COOKIE = 'casella_device';
const DEVICE_COOKIE_MAX_AGE_S = 180 * 24 * 3600;

export function deviceCookieOptions(publicUrl: string): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', path: '/', secure: publicUrl.startsWith('https:'), maxAge: DEVICE_COOKIE_MAX_AGE_S };
}

/** A login's cookies, the same for the JSON API and the login form: the session, and this browser's device cookie. */
export function setLoginCookies(reply: FastifyReply, opened: OpenedSession, publicUrl: string): void {
  reply.setCookie(SESSION_COOKIE, opened.token, sessionCookieOptions(publicUrl));
  reply.setCookie(DEVICE_COOKIE, opened.deviceCookie, deviceCookieOptions(publicUrl));
}
