/**
 * A very small browser over `inject`, for portal tests that read "as this person, do that":
 * it keeps cookies, follows redirects (the portal's and the stand-in identity provider's), reads
 * forms' hidden fields, and signs in through the stand-in's persona picker like a person would.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export interface Page {
  status: number;
  url: string;
  html: string;
  headers: LightMyRequestResponse['headers'];
}

export class TestBrowser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly app: FastifyInstance,
    readonly origin = 'http://127.0.0.1:8080',
    /** Other sites the browser may be sent to (an identity provider of its own), by origin. */
    readonly others: Record<string, FastifyInstance> = {},
  ) {}

  #remember(res: LightMyRequestResponse): void {
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  #cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request, no redirects followed. */
  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<Page> {
    const u = new URL(url, this.origin);
    const app = u.origin === new URL(this.origin).origin ? this.app : this.others[u.origin];
    if (!app) throw new Error(`the test browser knows no site at ${u.origin}`);
    const res = await app.inject({
      method,
      url: u.pathname + u.search,
      headers: {
        host: u.host,
        cookie: this.#cookieHeader(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    this.#remember(res);
    return { status: res.statusCode, url: u.toString(), html: res.body, headers: res.headers };
  }

  /** A request, then every redirect after it, as a browser follows them. */
  async go(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<Page> {
    let page = await this.request(method, url, form);
    for (let hops = 0; page.status >= 300 && page.status < 400; hops++) {
      if (hops > 15) throw new Error('too many redirects');
      const location = String(page.headers.location);
      page = await this.request('GET', new URL(location, page.url).toString());
    }
    return page;
  }

  get(url: string): Promise<Page> {
    return this.go('GET', url);
  }

  /** Submit the page's form whose action is `action`, with its hidden fields and these values. */
  submit(page: Page, action: string | RegExp, values: Record<string, string> = {}): Promise<Page> {
    const form = findForm(page.html, action);
    return this.go('POST', new URL(form.action, page.url).toString(), { ...form.hidden, ...values });
  }

  /** Sign in through the stand-in: pick the person; choose the role whose text contains `role`, if asked. */
  async signIn(sdsUserId: string, role?: string, returnTo?: string): Promise<Page> {
    const start = await this.get(
      `/sign-in/start${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
    );
    if (start.status !== 200)
      throw new Error(`sign-in did not show the picker (${start.status}): ${start.html.slice(0, 500)}`);
    const picker = findForm(start.html, /\/interaction\//);
    let page = await this.go('POST', new URL(picker.action, start.url).toString(), {
      ...picker.hidden,
      sub: sdsUserId,
    });
    if (page.url.includes('/select-role')) {
      if (!role) return page;
      const value = roleValue(page.html, role);
      page = await this.submit(page, '/select-role', { roleId: value });
    }
    return page;
  }
}

export interface FoundForm {
  action: string;
  hidden: Record<string, string>;
}

export function findForm(html: string, action: string | RegExp): FoundForm {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attrs = m[1]!;
    const act = /action="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const decoded = act.replace(/&amp;/g, '&');
    if (typeof action === 'string' ? decoded === action : action.test(decoded)) {
      const hidden: Record<string, string> = {};
      for (const h of m[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
        const name = /name="([^"]*)"/.exec(h[0])?.[1];
        const value = /value="([^"]*)"/.exec(h[0])?.[1] ?? '';
        if (name)
          hidden[name] = value
            .replace(/&amp;/g, '&')
            .replace(/&quot;/g, '"')
            .replace(/&#39;/g, "'");
      }
      return { action: decoded, hidden };
    }
  }
  throw new Error(`no form with action ${action} on the page:\n${html.slice(0, 3000)}`);
}

/** The value of the role radio whose label contains `text`. */
export function roleValue(html: string, text: string): string {
  for (const m of html.matchAll(
    /<input[^>]*name="roleId"[^>]*value="([^"]*)"[^>]*>\s*<label[^>]*>([\s\S]*?)<\/label>/g,
  )) {
    if (m[2]!.includes(text)) return m[1]!;
  }
  throw new Error(`no role like ${text} on the page`);
}

/** The page's text without tags, spaces collapsed (for assertions a reader can follow). */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}
